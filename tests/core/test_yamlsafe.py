"""YAML that reads as an invalid typed value, or nests absurdly deep: a listed problem, never a
traceback, from the parser, the knowledge loader, an import and the CLI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import yamlsafe
from bot.core.assistant import Assistant
from bot.core.curation import CurationService, ImportInvalid
from bot.core.limits import MAX_YAML_DEPTH
from bot.core.loader import KnowledgeError, load_knowledge
from bot.core.yamlsafe import YamlError, load_yaml
from bot.settings import Settings
from tests.conftest import KNOWLEDGE, KbFactory, run_cli

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


# ---- libyaml and the pure-Python parser: the same rules, the same answers ----------------------
@pytest.fixture(params=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with each parser `load_yaml` can use (libyaml when PyYAML has it)."""
    if request.param == "pure-python":
        monkeypatch.setattr(yamlsafe, "_FastLoader", None)
    elif yamlsafe._FastLoader is None:
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("a: &x 1\nb: *x\n", "line 1, column 4"),
        ("entries:\n  - &e {id: x}\n", "line 2, column 5"),
        ("a: [1]\nb: *nothing\n", "line 2, column 4"),
    ],
    ids=["anchor-and-alias", "anchor-alone", "alias-alone"],
)
def test_aliases_and_anchors_are_refused_with_their_line(parser: str, text: str, where: str) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml(text)
    assert "aliases (*name) and anchors (&name) are not allowed" in str(info.value)
    assert info.value.where == where


def test_a_syntax_error_gives_line_and_column_never_the_unicode_string(parser: str) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml("entries:\n  - id: x\n    questions: [one, two\n    answer: a\n")
    assert info.value.line == 4 and "<unicode string>" not in str(info.value)
    assert "flow sequence at line 3, column 16" in str(info.value)


def test_a_refused_character_gives_its_line_and_column(parser: str) -> None:
    with pytest.raises(YamlError) as info:
        load_yaml("é: ok\nb: x\x07\n")
    assert info.value.where == "line 2, column 5"
    assert "#x0007" in str(info.value)


def test_nesting_past_the_limit_is_refused(parser: str) -> None:
    depth = MAX_YAML_DEPTH + 1
    with pytest.raises(YamlError, match="nested more than"):
        load_yaml("a: " + "[" * depth + "]" * depth)
    assert load_yaml("a: " + "[" * (depth - 2) + "]" * (depth - 2)) is not None


#: Small YAML-ish texts: the characters that make YAML's structure, and some words.
YAML_PIECES = ["a", "b: ", "- ", "[", "]", "{", "}", ", ", "\n", "  ", "'", '"', "&x ", "*x", "#", "1", "é"]
YAMLISH = st.lists(st.sampled_from(YAML_PIECES), max_size=30).map("".join)


def _outcome(text: str) -> object:
    try:
        return ("data", load_yaml(text))
    except YamlError as exc:
        return ("error", exc.line is not None)


@settings(max_examples=300, deadline=None)
@given(YAMLISH)
def test_libyaml_and_pure_python_agree_on_what_loads(text: str) -> None:
    """The fast path changes the speed, not the answer: the same data, or an error (with a line
    from both or from neither), for any text."""
    if yamlsafe._FastLoader is None:
        pytest.skip("PyYAML was built without libyaml")
    fast = _outcome(text)
    saved = yamlsafe._FastLoader
    try:
        yamlsafe._FastLoader = None
        pure = _outcome(text)
    finally:
        yamlsafe._FastLoader = saved
    assert fast[0] == pure[0], (text, fast, pure)
    if fast[0] == "data":
        assert fast == pure


def test_the_curated_knowledge_loads_the_same_with_either_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    if yamlsafe._FastLoader is None:
        pytest.skip("PyYAML was built without libyaml")
    fast = load_knowledge(KNOWLEDGE)
    monkeypatch.setattr(yamlsafe, "_FastLoader", None)
    pure = load_knowledge(KNOWLEDGE)
    assert fast.entries == pure.entries and fast.quotes == pure.quotes and fast.entities == pure.entities
