"""`python -m bot ask|console|kb validate|run`: real subprocesses, as a user would run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import discord
import pytest
import yaml

from bot.core.text import normalize_verbatim
from bot.logs import configure_logging
from tests.conftest import ARTICLE, KNOWLEDGE, KbFactory, entry, run_cli

ARTICLE_TEXT = normalize_verbatim(ARTICLE.read_text(encoding="utf-8"))
CONTRACT_KEYS = {"question", "answered", "answer", "confidence", "citations", "suggestions", "entry_id"}


def test_ask_prints_the_answer_with_quoted_excerpts(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "ask", "Who attended the meeting?")
    assert result.returncode == 0, result.stderr
    assert "Blinken" in result.stdout and "Hamada" in result.stdout
    assert "\u00b6" in result.stdout and "\u201c" in result.stdout
    assert result.stderr == ""


def test_ask_json_speaks_the_contract(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "ask", "--json", "Where did the meeting happen?")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert set(answer) == CONTRACT_KEYS
    assert answer["answered"] is True and 0 <= answer["confidence"] <= 1
    for citation in answer["citations"]:
        assert set(citation) == {"excerpt", "source", "location", "speaker"}
        assert normalize_verbatim(citation["excerpt"]) in ARTICLE_TEXT


def test_jsonl_answers_every_line_including_empty_and_overlong_ones(tmp_path: Path) -> None:
    questions = ["who attended", "", "x" * 2000, "y" * 5000, "What is the best pizza topping?"]
    result = run_cli(tmp_path, "ask", "--jsonl", stdin="\n".join(questions) + "\n")
    assert result.returncode == 0, result.stderr
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["question"] for a in answers] == questions
    assert answers[0]["answered"] is True
    assert not any(a["answered"] for a in answers[1:])
    assert "Ask me a question" in answers[1]["answer"]
    assert "too long" in answers[3]["answer"] and "2,000" in answers[3]["answer"]


def test_abstention_lists_suggestions(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "ask", "Who won the Super Bowl?")
    assert result.returncode == 0
    assert "I don't know that from the article" in result.stdout
    assert "You could ask:" in result.stdout


def test_ask_without_a_question_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "ask")
    assert result.returncode == 2
    assert result.stderr.startswith("error: no question given")


def test_console_answers_until_an_empty_line(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "console", stdin="who is hamada\n\nnot read\n")
    assert result.returncode == 0, result.stderr
    assert "Defense Minister" in result.stdout
    assert result.stdout.count("bot> ") == 1


def _numbered_suggestions(reply: str) -> list[str]:
    """The suggestions a console reply offers by number, in order."""
    lines = reply.splitlines()
    start = next(i for i, line in enumerate(lines) if "You could ask (type its number):" in line)
    out = []
    for n, line in enumerate(lines[start + 1 :], start=1):
        prefix = f"{n}. "
        if not line.strip().startswith(prefix):
            break
        out.append(line.strip()[len(prefix) :])
    return out


def test_console_answers_a_suggestion_typed_by_its_number(tmp_path: Path) -> None:
    # "1" before anything was offered, and "9" past the list, are questions of their own.
    result = run_cli(tmp_path, "console", stdin="1\nWho won the Super Bowl?\n2\n9\n")
    assert result.returncode == 0, result.stderr
    replies = result.stdout.split("bot> ")[1:]
    assert len(replies) == 4
    assert "(confidence" not in replies[0]
    suggestions = _numbered_suggestions(replies[1])
    assert len(suggestions) >= 2
    # The second suggestion's answer is the one `ask` gives for its text, entry and all.
    asked = json.loads(run_cli(tmp_path, "ask", "--json", suggestions[1]).stdout)
    assert asked["answered"] is True
    assert replies[2].startswith(asked["answer"])
    assert f"entry {asked['entry_id']})" in replies[2]
    assert not replies[3].startswith(asked["answer"])


def test_kb_validate_shows_the_closest_verbatim_passage(tmp_path: Path, make_kb: KbFactory) -> None:
    near = "The two countries affirmed their unshakeable support for Ukraine"
    citations = [{"source": "article", "excerpt": near}]
    root = make_kb(entries={"near.yaml": [entry("near", citations=citations)]})
    result = run_cli(tmp_path, "kb", "validate", env={"BOT_KNOWLEDGE_DIR": str(root)})
    assert result.returncode == 1
    assert "entries/near.yaml: id='near': excerpt is not verbatim in source 'article'" in result.stderr
    assert (
        "The closest passage (¶2) is: \u201cThe two countries affirmed their unwavering support for "
        "Ukraine and discussed next steps"
    ) in result.stderr


BROKEN_YAML = "entries:\n  - id: x\n    questions: [one, two\n    answer: a\n"


@pytest.mark.parametrize(
    ("command", "env"),
    [
        (["kb", "validate"], {}),
        (["ask", "who attended"], {}),
        # Start-up of the bot: the knowledge is loaded before Discord is ever contacted.
        (["run"], {"DISCORD_TOKEN": "not-a-real-token"}),
    ],
    ids=["validate", "ask", "run"],
)
def test_a_yaml_syntax_error_names_the_file_and_the_line(
    tmp_path: Path, make_kb: KbFactory, command: list[str], env: dict[str, str]
) -> None:
    root = make_kb(raw_files={"entries/broken.yaml": BROKEN_YAML})
    result = run_cli(tmp_path, *command, env={"BOT_KNOWLEDGE_DIR": str(root), **env})
    assert result.returncode == 1
    assert "the knowledge base is invalid (1 problem)" in result.stderr
    assert (
        "entries/broken.yaml: invalid YAML (line 4, column 11): did not find expected ',' or ']' "
        "(while parsing a flow sequence at line 3, column 16)"
    ) in result.stderr
    assert "<unicode string>" not in result.stderr and "Traceback" not in result.stderr


def test_kb_validate_and_stats(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "kb", "validate")
    assert result.returncode == 0
    assert result.stdout.startswith("knowledge base OK:") and "entries" in result.stdout
    stats = json.loads(run_cli(tmp_path, "kb", "stats").stdout)
    assert stats["sources"] == 1 and stats["entries"] > 0


def test_an_invalid_knowledge_base_lists_every_problem_and_exits_non_zero(tmp_path: Path) -> None:
    broken = tmp_path / "knowledge"
    (broken / "entries").mkdir(parents=True)
    (broken / "sources").mkdir()
    for name in ("article.yaml", "article.txt"):
        (broken / "sources" / name).write_bytes((KNOWLEDGE / "sources" / name).read_bytes())
    bad = {
        "id": "bad",
        "questions": ["q"],
        "answer": "a",
        "citations": [{"source": "article", "excerpt": "nope"}],
        "answers": [],
    }
    (broken / "entries" / "x.yaml").write_text(yaml.safe_dump({"entries": [bad, {"id": "Bad Id"}]}))
    for command in (["kb", "validate"], ["ask", "who attended"]):
        result = run_cli(tmp_path, *command, env={"BOT_KNOWLEDGE_DIR": str(broken)})
        assert result.returncode == 1
        assert "the knowledge base is invalid (2 problems)" in result.stderr
        assert "entries/x.yaml: id='bad'" in result.stderr
        assert "Traceback" not in result.stderr


def test_an_invalid_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "ask", "hi", env={"BOT_ANSWER_THRESHOLD": "lots"})
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid setting BOT_ANSWER_THRESHOLD")
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("command", ["run", "sync"])
def test_discord_commands_need_a_token(tmp_path: Path, command: str) -> None:
    result = run_cli(tmp_path, command, env={"DISCORD_TOKEN": ""})
    assert result.returncode == 1
    assert "DISCORD_TOKEN is not set" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_ask_path_does_not_import_discord(tmp_path: Path) -> None:
    # Cold start matters for the CLI; discord.py is only for `run` and `sync`.
    code = (
        "import sys; from bot.cli import main; main(['ask', 'who attended']); print('discord' in sys.modules)"
    )
    probe = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env={**os.environ, "BOT_DATABASE": str(tmp_path / "db.sqlite3")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[-1] == "False"


# ---- undecodable input ------------------------------------------------------------------------


def run_bytes(
    tmp_path: Path, *args: str | bytes, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`python -m bot ARGS` with raw bytes in argv and stdin, as a shell passes them."""
    env = {
        **os.environ,
        "BOT_DATABASE": str(tmp_path / "db.sqlite3"),
        "PYTHONPATH": str(KNOWLEDGE.parent),
        "PYTHONIOENCODING": "utf-8",
    }
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
    )


def test_ask_with_undecodable_bytes_answers_and_logs(tmp_path: Path) -> None:
    result = run_bytes(tmp_path, "ask", "--json", b"who attended the meeting \xff")
    assert result.returncode == 0, result.stderr.decode()
    answer = json.loads(result.stdout)
    assert answer["answered"] and answer["question"] == "who attended the meeting \ufffd"
    assert result.stderr == b""


def test_jsonl_keeps_going_after_an_undecodable_line(tmp_path: Path) -> None:
    lines = b"who attended \xff\xfe\n\xed\xa0\x80 lone surrogate bytes\nwhere was the meeting held?\n"
    result = run_bytes(tmp_path, "ask", "--jsonl", stdin=lines)
    assert result.returncode == 0, result.stderr.decode()
    answers = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(answers) == 3
    assert answers[0]["question"].startswith("who attended \ufffd")
    assert answers[2]["answered"] and "Washington" in answers[2]["answer"]
    assert b"Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["ask", "console"])
def test_guild_zero_is_a_usage_error_not_a_traceback(tmp_path: Path, command: str) -> None:
    result = run_cli(tmp_path, command, "--guild", "0", *(["who attended"] if command == "ask" else []))
    assert result.returncode == 2
    assert "not a server id" in result.stderr and "Traceback" not in result.stderr


def test_jsonl_with_a_question_argument_is_refused(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "ask", "--jsonl", "who attended", stdin="who attended\n")
    assert result.returncode == 2
    assert "--jsonl reads one question per line of standard input" in result.stderr
    assert result.stdout == ""


def test_kb_import_help_says_guild_is_required(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "kb", "import", "--help")
    assert result.returncode == 0
    assert "--guild GUILD" in result.stdout and "[--guild" not in result.stdout


def test_kb_stats_says_where_the_database_is(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "kb", "stats")
    assert json.loads(result.stdout)["database"] == str(tmp_path / "db.sqlite3")


def test_no_voice_warnings_at_start_up(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO")
    discord.Client(intents=discord.Intents.none())
    assert "voice will NOT be supported" not in capsys.readouterr().err
