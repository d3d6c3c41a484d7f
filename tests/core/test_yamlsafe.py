"""YAML that reads as an invalid typed value, or nests absurdly deep: a listed problem, never a
traceback, from the parser, the knowledge loader, an import and the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.assistant import Assistant
from bot.core.curation import CurationService, ImportInvalid
from bot.core.limits import MAX_YAML_DEPTH
from bot.core.loader import KnowledgeError, load_knowledge
from bot.core.yamlsafe import YamlError, load_yaml
from bot.settings import Settings
from tests.conftest import KbFactory, run_cli

ENTRY_HEAD = "entries:\n  - id: e1\n    answer: Four ministers.\n    answers: [person]\n"
CITATION = (
    "    citations:\n      - source: article\n"
    "        excerpt: attended by U.S. Secretary of State Antony J. Blinken\n"
)

#: (name, YAML text, words the one-line reason must contain)
HOSTILE = [
    ("impossible date", ENTRY_HEAD + CITATION + "    questions: [2023-02-30]\n", "day is out of range"),
    ("5,000-digit integer id", "entries:\n  - id: " + "9" * 5000 + "\n", "digits"),
    ("nested 2,000 deep", "entries: " + "[" * 2000 + "]" * 2000 + "\n", "nested more than"),
    ("malformed !!float", "entries:\n  - id: !!float abc\n", "could not convert"),
    ("malformed !!timestamp", "entries:\n  - id: !!timestamp x\n", "cannot read this value"),
]
IDS = [name for name, _, _ in HOSTILE]


@pytest.fixture
async def curation_service(tmp_path: Path) -> AsyncIterator[CurationService]:
    assistant = await Assistant.start(Settings(database=tmp_path / "db.sqlite3"))
    try:
        yield CurationService(assistant, max_entries_per_guild=20)
    finally:
        await assistant.close()


@pytest.mark.parametrize(("name", "text", "reason"), HOSTILE, ids=IDS)
def test_load_yaml_raises_only_yaml_error_with_the_line(name: str, text: str, reason: str) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml(text)
    assert reason in str(info.value)
    assert "line" in str(info.value)


def test_nesting_up_to_the_limit_still_loads() -> None:
    depth = MAX_YAML_DEPTH - 1
    assert load_yaml("a: " + "[" * depth + "]" * depth) is not None


@pytest.mark.parametrize(("name", "text", "reason"), HOSTILE, ids=IDS)
def test_knowledge_loader_lists_the_problem(make_kb: KbFactory, name: str, text: str, reason: str) -> None:
    root = make_kb(raw_files={"entries/hostile.yaml": text})
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    [problem] = info.value.problems
    assert problem.file.endswith("entries/hostile.yaml")
    assert "invalid YAML" in problem.message and reason in problem.message


@pytest.mark.parametrize(("name", "text", "reason"), HOSTILE, ids=IDS)
async def test_import_lists_the_problem(
    curation_service: CurationService, name: str, text: str, reason: str
) -> None:
    with pytest.raises(ImportInvalid) as info:
        curation_service.parse_import(text.encode("utf-8"))
    [problem] = info.value.problems
    assert "not valid YAML" in problem and reason in problem


def test_cli_validate_and_import_report_one_line(tmp_path: Path, make_kb: KbFactory) -> None:
    text = ENTRY_HEAD + CITATION + "    questions: [2023-02-30]\n"
    root = make_kb(raw_files={"entries/hostile.yaml": text})
    validated = run_cli(tmp_path, "kb", "validate", env={"BOT_KNOWLEDGE_DIR": str(root)})
    assert validated.returncode == 1
    assert "Traceback" not in validated.stderr
    assert "entries/hostile.yaml" in validated.stderr and "day is out of range" in validated.stderr
    hostile = tmp_path / "hostile.yaml"
    hostile.write_text("entries: " + "[" * 2000 + "]" * 2000 + "\n", encoding="utf-8")
    imported = run_cli(tmp_path, "kb", "import", "--guild", "111111111111111111", str(hostile))
    assert imported.returncode == 1
    assert "Traceback" not in imported.stderr and "nested more than" in imported.stderr
