"""Hostile knowledge and import files: a clear error, nothing half-applied, bot still up.

Import files go through the running bot's own curation service (the bot stays connected to the
fake Discord and must answer /ask after every refused file) and through the CLI; knowledge
directories go through the loader and `python -m bot`.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from bot.core.curation import CurationService, ImportInvalid
from bot.core.limits import MAX_IMPORT_BYTES
from bot.core.loader import KnowledgeError, load_knowledge
from bot.settings import PROJECT_ROOT
from tests.conftest import KbFactory
from tests.discord_app.conftest import Live
from tests.discord_app.qa_helpers import FileHost, file_host, followup, import_file, is_ephemeral
from tests.discord_app.qa_helpers import respond as qa_respond
from tests.fakediscord import GUILD_ID, snowflake
from tests.reliability.conftest import ReliabilityMetrics
from tests.reliability.helpers import ask_payload, live_bot, respond, settings_for

# One event loop for the module: every refused file hits the same running bot.
pytestmark = [pytest.mark.reliability, pytest.mark.asyncio(loop_scope="module")]

MOD = 42
ATTENDED = "attended by U.S. Secretary of State Antony J. Blinken"
CLUB_Q = "What is the club motto of our reading circle?"

ALIAS_BOMB = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
entries: *i
"""
FIFTY_MB = 50 * 1024 * 1024


def entry_doc(entry_id: str = "club-motto", **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": entry_id,
        "questions": [CLUB_Q],
        "answer": "Whatever Blinken said.",
        "citations": [{"source": "article", "excerpt": ATTENDED}],
        "answers": ["quote"],
    }
    doc.update(over)
    return doc


def dump(*docs: dict[str, Any]) -> bytes:
    return yaml.safe_dump({"entries": list(docs)}, allow_unicode=True).encode("utf-8")


def with_valid_entry(bad: bytes) -> bytes:
    """The bad file with a valid entry first (when it has an entries list), to prove all-or-nothing."""
    head = b"entries:\n"
    if not bad.startswith(head):
        return bad
    return head + dump(entry_doc("fine-entry"))[len(head) :] + bad[len(head) :]


BAD_IMPORTS = [
    pytest.param(b"entries:\n  - id: x\n    questions: [unclosed\n", "not valid YAML", id="malformed-yaml"),
    pytest.param(b"entries:\n\t- id: x\n", "not valid YAML", id="tab-indent"),
    pytest.param(b"- just\n- a list\n", "list under 'entries:'", id="wrong-top-level"),
    pytest.param(b"entries: 42\n", "list under 'entries:'", id="entries-not-a-list"),
    pytest.param(
        dump(entry_doc(questions="one string", answer=["a", "list"], citations={"x": 1})),
        "entry 'club-motto'",
        id="wrong-types",
    ),
    pytest.param(
        dump({"id": 7, "questions": [None], "answer": 3.5}),
        "id: Input should be a valid string",
        id="wrong-scalar-types",
    ),
    pytest.param(ALIAS_BOMB, "aliases", id="alias-bomb"),
    pytest.param(
        b"entries:\n" + b"#" * (FIFTY_MB - 9), f"the limit is {MAX_IMPORT_BYTES:,} bytes", id="50MB"
    ),
    pytest.param(dump(entry_doc(), entry_doc()), "listed 2 times", id="duplicate-ids"),
    pytest.param(
        dump(entry_doc(citations=[{"source": "article", "excerpt": "Blinken ate pizza in Hiroshima"}])),
        "excerpt is not verbatim in source 'article'",
        id="excerpt-not-in-source",
    ),
    pytest.param(b"\xff\xfe" + "entries: []".encode("utf-16-le"), "not UTF-8", id="not-utf8"),
]


def db_rows(path: Path) -> tuple[int, int, int]:
    """(entries, entry versions, guild configs): any half-applied write changes one of these."""
    with sqlite3.connect(path) as raw:
        counts = [
            raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in ("entries", "entry_versions", "guild_config")
        ]
    return counts[0], counts[1], counts[2]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def import_live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    """One running bot for every refused file: it must survive them all."""
    root = tmp_path_factory.mktemp("import")
    async with live_bot(
        settings_for(root, database=root / "bot.sqlite3")
    ) as running:  # rows read with sqlite3
        yield running


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def host() -> AsyncIterator[FileHost]:
    async with file_host() as serving:
        yield serving


@pytest.fixture(scope="module")
def curation(import_live: Live) -> CurationService:
    """The running bot's own curation service (the one /qa uses)."""
    return import_live.bot.curation


@pytest.mark.parametrize(("data", "message"), BAD_IMPORTS)
async def test_a_bad_import_is_refused_clearly_and_changes_nothing(
    import_live: Live,
    curation: CurationService,
    reliability_metrics: ReliabilityMetrics,
    data: bytes,
    message: str,
    request: pytest.FixtureRequest,
) -> None:
    live = import_live
    with reliability_metrics.fault(f"bad import: {request.node.callspec.id}", "hostile file"):
        before = db_rows(live.settings.database)
        index_before = live.assistant.service.answer(CLUB_Q, GUILD_ID).entry_id
        started = time.monotonic()
        with pytest.raises(ImportInvalid) as info:
            await curation.import_yaml(GUILD_ID, with_valid_entry(data), MOD)
        elapsed = time.monotonic() - started
        problems = info.value.problems
        assert any(message in p for p in problems), problems
        assert all(0 < len(p) <= 2000 and "Traceback" not in p for p in problems)
        assert elapsed < 2.0, f"refusing the file took {elapsed:.2f} s"
        # Nothing half-applied: not in the database, not in the answer index.
        assert db_rows(live.settings.database) == before
        assert await curation.store.get_entry(GUILD_ID, "fine-entry", include_deleted=True) is None
        assert live.assistant.service.answer(CLUB_Q, GUILD_ID).entry_id == index_before
        # The bot is still running and answering.
        body = await respond(live, ask_payload("Who attended the meeting?", channel_id=snowflake()))
        assert body["type"] == 4 and "Blinken" in body["data"]["embeds"][0]["description"]


@pytest.mark.parametrize(("data", "message"), BAD_IMPORTS)
async def test_a_bad_import_through_discord_is_refused_and_the_bot_keeps_answering(
    import_live: Live,
    host: FileHost,
    reliability_metrics: ReliabilityMetrics,
    data: bytes,
    message: str,
    request: pytest.FixtureRequest,
) -> None:
    """/qa import with the bad file attached, by a Manage Server member: a private message
    naming the problem, nothing changed, and the bot still answers /ask."""
    live = import_live
    case = request.node.callspec.id
    with reliability_metrics.fault(f"bad /qa import: {case}", "hostile file"):
        before = db_rows(live.settings.database)
        downloads = len(host.downloads)
        if len(data) > MAX_IMPORT_BYTES:
            # Discord states the size; the 50 MB are never served, let alone downloaded.
            interaction = import_file(host, b"", filename=f"{case}.yaml", size=len(data))
        else:
            interaction = import_file(host, with_valid_entry(data), filename=f"{case}.yaml")
        body = await qa_respond(live, interaction)
        if body["type"] == 5:  # deferred while the file is downloaded and checked
            reply = await followup(live, interaction)
            assert len(host.downloads) == downloads + 1
        else:
            assert body["type"] == 4 and is_ephemeral(body)
            reply = body["data"]
            assert len(host.downloads) == downloads, "an oversized file was downloaded"
        text = reply["content"]
        assert text.startswith("Nothing was imported") and len(text) <= 2000, text
        assert message in text.replace("\\", ""), text  # escaped for Discord: drop the backslashes
        assert reply["flags"] & 64 and reply["allowed_mentions"] == {"parse": []}
        assert db_rows(live.settings.database) == before
        answer = await respond(live, ask_payload("Who attended the meeting?", channel_id=snowflake()))
        assert answer["type"] == 4 and "Blinken" in answer["data"]["embeds"][0]["description"]


async def test_after_every_refusal_a_valid_import_still_applies(
    import_live: Live, curation: CurationService
) -> None:
    report = await curation.import_yaml(GUILD_ID, dump(entry_doc("club-motto")), MOD)
    assert (report.added, report.updated) == (1, 0)
    assert import_live.assistant.service.answer(CLUB_Q, GUILD_ID).entry_id == "club-motto"
    body = await respond(import_live, ask_payload(CLUB_Q, channel_id=snowflake()))
    assert "Whatever Blinken said." in body["data"]["embeds"][0]["description"]


async def test_a_failure_inside_the_import_transaction_rolls_everything_back(
    import_live: Live, curation: CurationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validation passed, then the disk fails on the third write: none of the batch stays."""
    store = import_live.assistant.store
    real = store._insert_version
    calls = 0

    async def failing(db: Any, values: tuple[Any, ...]) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise sqlite3.OperationalError("disk I/O error")
        await real(db, values)

    monkeypatch.setattr(store, "_insert_version", failing)
    before = db_rows(import_live.settings.database)
    docs = [entry_doc(f"batch-{n}", questions=[f"What is batch item {n} about?"]) for n in range(4)]
    with pytest.raises(Exception) as info:
        await curation.import_yaml(GUILD_ID, dump(*docs), MOD)
    assert "could not complete" in str(info.value)
    monkeypatch.undo()
    assert db_rows(import_live.settings.database) == before
    assert await curation.store.get_entry(GUILD_ID, "batch-0", include_deleted=True) is None


# ---- the command line --------------------------------------------------------------------------


async def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_cli_import_refuses_bomb_and_50mb_file_without_touching_the_database(tmp_path: Path) -> None:
    db = tmp_path / "cli.sqlite3"
    env = {"BOT_DATABASE": str(db)}
    (tmp_path / "bomb.yaml").write_bytes(ALIAS_BOMB)
    huge = tmp_path / "huge.yaml"
    huge.touch()
    os.truncate(huge, FIFTY_MB)  # sparse: 50 MB of NUL bytes
    # An empty file: refused (not a mapping); this also creates the database.
    code, _, err = await run_cli("kb", "import", "--guild", str(GUILD_ID), "/dev/null", cwd=tmp_path, env=env)
    assert code == 1 and "list under 'entries:'" in err, err
    before = db_rows(db)
    results = await asyncio.gather(
        run_cli("kb", "import", "--guild", str(GUILD_ID), "bomb.yaml", cwd=tmp_path, env=env),
        run_cli("kb", "import", "--guild", str(GUILD_ID), "huge.yaml", cwd=tmp_path, env=env),
    )
    for (code, out, err), what in zip(
        results, ["aliases", f"The file is {FIFTY_MB:,} bytes; the limit is 262,144 bytes"], strict=True
    ):
        assert code == 1, (out, err)
        assert "was not imported" in err and what in err, err
        assert "Traceback" not in err
    assert db_rows(db) == before


async def test_broken_knowledge_directory_fails_to_start_with_every_problem_named(
    make_kb: KbFactory, tmp_path: Path
) -> None:
    root = make_kb(
        entries={
            "a.yaml": [
                entry_doc("dup"),
                entry_doc("not-verbatim", citations=[{"source": "article", "excerpt": "x y z"}]),
            ],
            "b.yaml": [entry_doc("dup"), entry_doc("wrong", questions="not a list")],
        },
        raw_files={"entries/c.yaml": "entries: [unclosed\n", "entries/d.yaml": ALIAS_BOMB.decode()},
    )
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    text = str(info.value)
    for expected in [
        "entries/b.yaml: id='dup': duplicate entry id (also in knowledge/entries/a.yaml)",
        "id='not-verbatim': excerpt is not verbatim in source 'article': 'x y z'",
        "entries/b.yaml: id='wrong': questions",
        "entries/c.yaml: invalid YAML (line 2, column 1)",
        "entries/d.yaml: invalid YAML (line 1, column 4): YAML aliases (*name) and anchors",
    ]:
        assert expected in text, text
    code, out, err = await run_cli(
        "ask",
        "Who attended?",
        cwd=tmp_path,
        env={"BOT_KNOWLEDGE_DIR": str(root), "BOT_DATABASE": str(tmp_path / "k.db")},
    )
    assert code == 1 and out == ""
    assert "the knowledge base is invalid (5 problems)" in err and "Traceback" not in err
    assert not (tmp_path / "k.db").exists(), "a half-loaded knowledge base reached the database"
