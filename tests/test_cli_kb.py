"""`python -m bot kb export|import`: real subprocesses against a throwaway database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run_cli as run

GUILD = "111111111111111111"
OTHER = "222222222222222222"

ENTRY: dict[str, Any] = {
    "id": "club-motto",
    "questions": ["What is our club motto?", "club motto"],
    "answer": "Our motto is Blinken's line about standing with Ukraine.",
    "citations": [
        {
            "source": "article",
            "excerpt": "We stand together with Ukraine against President Putin\u2019s war",
            "speaker": "Antony J. Blinken",
        }
    ],
    "tags": ["club"],
    "entities": ["blinken"],
}


def write_yaml(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"entries": entries}, allow_unicode=True), encoding="utf-8")
    return path


def test_import_export_round_trip(tmp_path: Path) -> None:
    source = write_yaml(tmp_path / "in.yaml", [ENTRY])
    imported = run(tmp_path, "kb", "import", "--guild", GUILD, str(source), "--actor", "42")
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == f"imported into server {GUILD}: 1 added, 0 updated, 0 unchanged"

    exported = run(tmp_path, "kb", "export", "--guild", GUILD)
    assert exported.returncode == 0, exported.stderr
    assert yaml.safe_load(exported.stdout) == {"entries": [ENTRY]}

    # Into another server through a file, then the two exports are identical.
    out = tmp_path / "out.yaml"
    to_file = run(tmp_path, "kb", "export", "--guild", GUILD, "-o", str(out))
    assert to_file.returncode == 0, to_file.stderr
    assert to_file.stdout.strip() == f"exported 1 entry to {out}"
    assert out.read_text(encoding="utf-8") == exported.stdout
    again = run(tmp_path, "kb", "import", "--guild", OTHER, str(out))
    assert again.returncode == 0, again.stderr
    assert run(tmp_path, "kb", "export", "--guild", OTHER).stdout == exported.stdout

    # The imported entry answers in its server only.
    asked = run(tmp_path, "ask", "--json", "--guild", GUILD, "What is our club motto?")
    assert '"entry_id": "club-motto"' in asked.stdout
    elsewhere = run(tmp_path, "ask", "--json", "What is our club motto?")
    assert '"answered": false' in elsewhere.stdout


def test_invalid_import_exits_non_zero_and_names_every_problem(tmp_path: Path) -> None:
    bad = dict(ENTRY, citations=[{"source": "article", "excerpt": "Blinken ate pizza"}], entities=["nobody"])
    source = write_yaml(tmp_path / "bad.yaml", [bad])
    result = run(tmp_path, "kb", "import", "--guild", GUILD, str(source))
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[0] == f"error: {source} was not imported (2 problems):"
    assert any("entry 'club-motto': 1 unknown entity id: 'nobody'" in line for line in lines)
    assert any("entry 'club-motto': excerpt is not verbatim" in line for line in lines)
    assert "Traceback" not in result.stderr
    # Nothing was written.
    assert yaml.safe_load(run(tmp_path, "kb", "export", "--guild", GUILD).stdout) == {"entries": []}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["kb", "import", "--guild", GUILD, "missing.yaml"], "error: cannot read missing.yaml"),
    ],
)
def test_import_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = run(tmp_path, *args)
    assert result.returncode != 0
    assert result.stderr.startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_import_without_a_server_is_a_usage_error(tmp_path: Path) -> None:
    # The curated base is read-only here: --guild is required, and argparse says so with usage.
    result = run(tmp_path, "kb", "import", "missing.yaml")
    assert result.returncode == 2
    assert "the following arguments are required: --guild" in result.stderr
    assert "Traceback" not in result.stderr


def test_import_from_stdin_and_bad_yaml(tmp_path: Path) -> None:
    result = run(tmp_path, "kb", "import", "--guild", GUILD, "-", stdin="entries: [\n")
    assert result.returncode == 1
    assert "The file is not valid YAML" in result.stderr


def test_guild_must_be_a_server_id(tmp_path: Path) -> None:
    result = run(tmp_path, "kb", "export", "--guild", "0")
    assert result.returncode == 2
    assert "not a server id" in result.stderr


def test_import_shows_the_closest_verbatim_passage_for_an_excerpt(tmp_path: Path) -> None:
    # A paraphrase of the article's ¶2, as someone would type it from memory.
    near = "The two countries affirmed their unshakeable support for Ukraine"
    bad = dict(ENTRY, citations=[{"source": "article", "excerpt": near}])
    source = write_yaml(tmp_path / "near.yaml", [bad])
    result = run(tmp_path, "kb", "import", "--guild", GUILD, str(source))
    assert result.returncode == 1
    [problem] = result.stderr.strip().splitlines()[1:]
    assert "entry 'club-motto': excerpt is not verbatim" in problem
    assert (
        "The closest passage (¶2) is: \u201cThe two countries affirmed their unwavering support for "
        "Ukraine and discussed next steps for providing assistance to Ukraine's energy sector.\u201d"
    ) in problem


def test_an_import_yaml_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    source = tmp_path / "broken.yaml"
    source.write_text("entries:\n  - id: x\n    questions: [one, two\n    answer: a\n", encoding="utf-8")
    result = run(tmp_path, "kb", "import", "--guild", GUILD, str(source))
    assert result.returncode == 1
    header, problem = result.stderr.strip().splitlines()
    assert header == f"error: {source} was not imported (1 problem):"
    assert problem.strip().startswith("The file is not valid YAML (line 4, column ")
    assert "flow sequence at line 3, column 16" in problem
    assert "<unicode string>" not in result.stderr
