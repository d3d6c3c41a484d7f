"""Storage faults: answers never wait on the database, and the curated base answers whatever
state the database is in.

- A foreign write lock (another process in `BEGIN IMMEDIATE`): questions are answered at once,
  a read (the moderator-role lookup) does not queue behind the waiting log write, and the log
  is written when the lock goes, or dropped and counted if it outlasts the busy timeout.
- Start-up on a database that cannot be used (a directory, random bytes, a truncated file, a
  damaged row, a full disk, a lock held longer than the busy timeout, a read-only directory with
  a `-wal` but no `-shm`): the bot starts, answers from the curated base, warns once naming the
  file and the cause, and curation says the store is unavailable. The file is never rewritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.core.assistant import Assistant
from bot.core.curation import CurationService
from bot.core.models import EntryDraft
from bot.core.store import StoreError, StoreFull, StoreUnavailable
from bot.settings import Settings
from tests.reliability.conftest import ReliabilityMetrics
from tests.reliability.full_disk import namespace, run_scenario
from tests.reliability.helpers import ask_payload, live_bot, respond, settings_for

pytestmark = pytest.mark.reliability

GUILD = 111_111_111_111_111_111
ATTENDED = "attended by U.S. Secretary of State Antony J. Blinken"
QUESTIONS = [
    "Who attended the meeting?",
    "where was the meeting held",
    "What did Blinken say about Putin?",
    "when was it",
    "what is the best pizza topping?",
    "who is hamada",
]


def settings(tmp_path: Path, **over: object) -> Settings:
    values: dict[str, object] = {"database": tmp_path / "bot.sqlite3", "db_busy_timeout": 1.0}
    values.update(over)
    return Settings(**values)  # type: ignore[arg-type]


async def prepared(tmp: Settings) -> None:
    """A seeded database with one server entry, cleanly closed."""
    assistant = await Assistant.start(tmp)
    try:
        draft = EntryDraft(questions=["What is our club motto?"], answer="Unity.", excerpts=[ATTENDED])
        await CurationService(assistant, max_entries_per_guild=10).create(GUILD, draft, 42)
    finally:
        await assistant.close()


@contextlib.contextmanager
def foreign_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another process's write transaction on the database, held until the block ends."""
    raw = sqlite3.connect(path, isolation_level=None, timeout=0)
    raw.execute("BEGIN IMMEDIATE")
    try:
        yield raw
    finally:
        raw.execute("ROLLBACK")
        raw.close()


async def ask_all(assistant: Assistant, metrics: ReliabilityMetrics, scope: int | None = None) -> float:
    """Ask every question at once; the slowest answer's seconds. Unanswered ones count as lost."""
    started = time.monotonic()
    results = await asyncio.gather(
        *(assistant.ask(q, scope, channel_id=1, user_id=n) for n, q in enumerate(QUESTIONS)),
        return_exceptions=True,
    )
    lost = [r for r in results if isinstance(r, BaseException)]
    metrics.answers_lost += len(lost)
    assert not lost, lost[:2]
    return time.monotonic() - started


def bot_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.name.startswith("bot") and r.levelno >= logging.WARNING
    ]


# ---- answers never wait on logging ----------------------------------------------------------


async def test_a_foreign_write_lock_delays_no_answer_and_no_read(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics
) -> None:
    tmp = settings(tmp_path, db_busy_timeout=5.0)
    await prepared(tmp)
    assistant = await Assistant.start(tmp)
    try:
        with reliability_metrics.fault("foreign write lock shorter than the busy timeout", "storage"):
            with foreign_lock(tmp.database):
                slowest = await ask_all(assistant, reliability_metrics, GUILD)
                await asyncio.sleep(0.05)  # the log writer is now waiting for the lock
                started = time.monotonic()
                assert await assistant.store.get_moderator_role(GUILD) is None
                read_s = time.monotonic() - started
                await asyncio.sleep(0.5)
            assert slowest < 0.5, f"an answer waited {slowest:.2f} s for the question log"
            assert read_s < 0.5, f"a read waited {read_s:.2f} s behind the question log"
            assert await assistant.questions.flush(10)
            assert (assistant.questions.written, assistant.questions.dropped) == (len(QUESTIONS), 0)
    finally:
        await assistant.close()


async def test_a_lock_longer_than_the_busy_timeout_drops_the_log_not_the_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, reliability_metrics: ReliabilityMetrics
) -> None:
    caplog.set_level(logging.WARNING)
    tmp = settings(tmp_path, db_busy_timeout=0.3)
    await prepared(tmp)
    assistant = await Assistant.start(tmp)
    try:
        with reliability_metrics.fault("foreign write lock longer than the busy timeout", "storage"):
            with foreign_lock(tmp.database):
                for _ in range(3):
                    assert await ask_all(assistant, reliability_metrics) < 0.5
                    await asyncio.sleep(0.1)
                assert await assistant.questions.flush(10)
            dropped = assistant.questions.dropped
            reliability_metrics.log_dropped += dropped
            assert dropped > 0 and assistant.questions.written + dropped == 3 * len(QUESTIONS)
            warnings = [w for w in bot_warnings(caplog) if "question log" in w]
            assert len(warnings) == 1, warnings  # warned once, then counted
            # The lock is gone: the log works again, and feedback waits for its entry.
            result = await assistant.ask("Who attended the meeting?", GUILD, channel_id=1, user_id=9)
            assert result.question_id is not None
            await assistant.record_feedback(result.question_id, 9, helpful=True)
            assert await assistant.store.feedback_counts(result.question_id) == (1, 0)
    finally:
        await assistant.close()


async def test_a_full_queue_drops_and_counts(tmp_path: Path, reliability_metrics: ReliabilityMetrics) -> None:
    from bot.core.questionlog import QuestionLog

    tmp = settings(tmp_path)
    assistant = await Assistant.start(tmp)
    assistant.questions = QuestionLog(assistant.store, capacity=4)
    try:
        with reliability_metrics.fault("question log queue full", "storage"):
            results = [assistant.ask("Who attended the meeting?", None) for _ in range(10)]
            done = await asyncio.gather(*results)
            assert all(r.answer.answered for r in done)
            assert await assistant.questions.flush(10)
            assert assistant.questions.written + assistant.questions.dropped == 10
            assert assistant.questions.dropped >= 6
            assert sum(r.question_id is None for r in done) == assistant.questions.dropped
            reliability_metrics.log_dropped += assistant.questions.dropped
    finally:
        await assistant.close()


# ---- start-up on a database that cannot be used --------------------------------------------


def _directory(path: Path) -> None:
    path.mkdir()


def _random_bytes(path: Path) -> None:
    path.write_bytes(os.urandom(64 * 1024))


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def _text_file(path: Path) -> None:
    path.write_text("entries:\n  - id: not-a-database\n", encoding="utf-8")


BROKEN: dict[str, tuple[Callable[[Path], None], bool, str]] = {
    # name: (break the file, whether it exists first, words the warning must contain)
    "a directory": (_directory, False, "directory"),
    "random bytes": (_random_bytes, False, "not an SQLite database"),
    "a truncated database": (_truncated, True, ""),
    "a text file": (_text_file, False, "not an SQLite database"),
}


@pytest.mark.parametrize("case", list(BROKEN))
async def test_an_unusable_database_still_answers_from_the_curated_base(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, reliability_metrics: ReliabilityMetrics, case: str
) -> None:
    caplog.set_level(logging.WARNING)
    tmp = settings(tmp_path)
    breaker, exists, cause = BROKEN[case]
    if exists:
        await prepared(tmp)
    breaker(tmp.database)
    before = _snapshot(tmp.database)
    with reliability_metrics.fault(f"start on {case}", "storage"):
        assistant = await Assistant.start(tmp)
        try:
            await ask_all(assistant, reliability_metrics)
            answer = (await assistant.ask("Who attended the meeting?")).answer
            assert answer.answered and "Blinken" in answer.answer
            warnings = bot_warnings(caplog)
            if not assistant.store.available:
                [warning] = [w for w in warnings if "curated knowledge files only" in w]
                assert str(tmp.database) in warning and cause in warning
                with pytest.raises(StoreUnavailable) as info:
                    await CurationService(assistant, max_entries_per_guild=10).list_entries(GUILD)
                assert "unavailable" in str(info.value) and "still work" in str(info.value)
                assert str(tmp.database) not in str(info.value)  # the path is for the operator only
            else:  # SQLite could read what the truncation left: it must say what it skipped
                assert warnings, "a truncated database opened without a word"
        finally:
            await assistant.close()
        assert _snapshot(tmp.database) == before, "the damaged file was changed"


def _snapshot(path: Path) -> object:
    if path.is_dir():
        return sorted(p.name for p in path.iterdir())
    return path.read_bytes()


async def test_a_damaged_row_is_skipped_not_fatal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, reliability_metrics: ReliabilityMetrics
) -> None:
    caplog.set_level(logging.WARNING)
    tmp = settings(tmp_path)
    await prepared(tmp)
    with sqlite3.connect(tmp.database) as raw:
        raw.execute(
            "INSERT INTO entries (scope, id, version, data, content_hash, deleted, origin, updated_at)"
            " VALUES (?, 'broken', 1, 'not json', 'x', 0, 'discord', '2023-01-11T00:00:00.000000+00:00')",
            (GUILD,),
        )
    with reliability_metrics.fault("start with a row of data='not json'", "storage"):
        assistant = await Assistant.start(tmp)
        try:
            assert assistant.store.available
            assert assistant.service.answer("What is our club motto?", GUILD).answered
            assert any("'broken'" in w and "damaged" in w for w in bot_warnings(caplog))
            await ask_all(assistant, reliability_metrics, GUILD)
        finally:
            await assistant.close()


@pytest.mark.parametrize("fresh", [False, True], ids=["seeded", "fresh"])
async def test_a_lock_held_over_the_busy_timeout_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, reliability_metrics: ReliabilityMetrics, fresh: bool
) -> None:
    caplog.set_level(logging.WARNING)
    tmp = settings(tmp_path, db_busy_timeout=0.3)
    if fresh:
        sqlite3.connect(tmp.database).close()  # an empty file another process is creating
    else:
        await prepared(tmp)
    with reliability_metrics.fault(
        f"start under a foreign lock ({'fresh' if fresh else 'seeded'})", "storage"
    ):
        with foreign_lock(tmp.database):
            started = time.monotonic()
            assistant = await Assistant.start(tmp)
            took = time.monotonic() - started
        try:
            assert took < 5, f"start-up took {took:.1f} s"
            await ask_all(assistant, reliability_metrics, GUILD)
            if not fresh:  # the server's entries were read: a lock does not block readers
                assert assistant.store.available
                assert assistant.service.answer("What is our club motto?", GUILD).answered
            warnings = bot_warnings(caplog)
            assert warnings and all(str(tmp.database) in w for w in warnings[:1]), warnings
        finally:
            await assistant.close()


@contextlib.contextmanager
def unwritable_directory(path: Path) -> Iterator[None]:
    """A directory this process cannot create files in (chattr +i as root, mode 0555 otherwise)."""
    if os.geteuid() != 0:
        path.chmod(0o555)
        undo = [lambda: path.chmod(0o755)]
    else:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip("as root, needs chattr +i to make a directory read-only")
        undo = [lambda: subprocess.run([chattr, "-i", str(path)], check=True)]
    try:
        with pytest.raises(OSError):
            (path / "probe").write_text("x")
        yield
    finally:
        for step in undo:
            step()


async def test_a_read_only_directory_with_a_wal_and_no_shm_is_refused_not_misread(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, reliability_metrics: ReliabilityMetrics
) -> None:
    caplog.set_level(logging.WARNING)
    folder = tmp_path / "data"
    folder.mkdir()
    tmp = settings(folder)
    await prepared(tmp)
    # Leave the last writes in the WAL, as a killed process would, then lose the -shm.
    raw = sqlite3.connect(tmp.database, isolation_level=None)
    raw.execute("PRAGMA wal_autocheckpoint = 0")
    raw.execute("UPDATE entries SET updated_by = 7 WHERE scope = ?", (GUILD,))
    wal = tmp.database.with_name(tmp.database.name + "-wal")
    copy = {p.name: p.read_bytes() for p in folder.iterdir()}
    raw.close()
    for name, data in copy.items():  # what the folder held before the clean close checkpointed it
        (folder / name).write_bytes(data)
    tmp.database.with_name(tmp.database.name + "-shm").unlink(missing_ok=True)
    assert wal.stat().st_size > 0
    with (
        unwritable_directory(folder),
        reliability_metrics.fault("read-only directory, -wal without -shm", "storage"),
    ):
        assistant = await Assistant.start(tmp)
        try:
            await ask_all(assistant, reliability_metrics)
            assert not assistant.store.available
            [warning] = [w for w in bot_warnings(caplog) if "curated knowledge files only" in w]
            assert "-wal" in warning and str(tmp.database) in warning
        finally:
            await assistant.close()


# ---- a full disk: a real one (a tmpfs of the test's own) where the machine allows it ----------


@pytest.fixture(params=["tmpfs", "rlimit"])
def full_disk(request: pytest.FixtureRequest) -> bool:
    """Whether the disk is simulated (RLIMIT_FSIZE) rather than really full. Exactly one of the
    two runs: the real tmpfs when a private mount namespace can be had (see full_disk.py), the
    simulation otherwise; `RELIABILITY_FULL_DISK=rlimit` forces the simulation."""
    prefix, why = namespace()
    forced = os.environ.get("RELIABILITY_FULL_DISK") == "rlimit"
    real = prefix is not None and not forced
    if request.param == "tmpfs" and not real:
        pytest.skip(f"no real full filesystem here, RLIMIT_FSIZE simulates it: {why or 'forced'}")
    if request.param == "rlimit" and real:
        pytest.skip("a real full filesystem (a tmpfs in a private mount namespace) is tested instead")
    return request.param == "rlimit"


def _ran_cleanly(scenario: str, tmp_path: Path, rlimit: bool) -> subprocess.CompletedProcess[str]:
    """A full-disk scenario's run, which must end normally and without a traceback."""
    result = run_scenario(scenario, tmp_path, rlimit=rlimit)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def test_a_full_disk_at_start_up_answers_from_the_cli(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics, full_disk: bool
) -> None:
    with reliability_metrics.fault("disk full at start-up", "storage"):
        result = _ran_cleanly("startup", tmp_path, full_disk)
        assert "Blinken" in result.stdout
        [warning] = [line for line in result.stderr.splitlines() if "WARNING" in line]
        assert "curated knowledge files only" in warning and str(tmp_path / "bot.sqlite3") in warning
        if full_disk:  # EFBIG: SQLite says "disk I/O error"
            assert "disk" in warning and ("full" in warning or "refused a write" in warning)
        else:  # ENOSPC: SQLite says "database or disk is full"
            assert "the disk is full" in warning, warning


def test_a_disk_filling_up_while_running_loses_no_answer_and_nothing_acknowledged(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics, full_disk: bool
) -> None:
    with reliability_metrics.fault("disk full while running", "storage"):
        result = _ran_cleanly("running", tmp_path, full_disk)
        seen = json.loads(result.stdout.strip().splitlines()[-1])
        if not full_disk:
            assert seen["free_after"] == 0 and seen["filled"] > 0, seen
        # Every question answered, server entries included; the log entries dropped and counted.
        assert seen["answered"] == seen["asked"] == 400 and seen["motto_answered"], seen
        reliability_metrics.answers_lost += seen["asked"] - seen["answered"]
        assert seen["log_written"] + seen["log_dropped"] == seen["asked"] + 1 and seen["log_dropped"] > 0, (
            seen
        )
        reliability_metrics.log_dropped += seen["log_dropped"]
        warnings = [line for line in result.stderr.splitlines() if "question log" in line]
        assert len(warnings) == 1, warnings  # warned once, then counted
        # Curation says what failed; what was acknowledged before stays, and is there after.
        assert seen["curation_error"] is not None, seen
        if not full_disk:
            assert seen["curation_error"] == f"StoreFull: {StoreFull().message}", seen
        assert seen["entries_while_full"] == [seen["acknowledged"]], seen
        assert seen["available_after"] and seen["entries_after"] == [seen["acknowledged"]], seen
        assert seen["motto_after"], seen


async def test_discord_with_an_unavailable_database_answers_and_explains_curation(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics
) -> None:
    from tests.discord_app.qa_helpers import is_ephemeral, qa
    from tests.discord_app.qa_helpers import respond as qa_respond

    tmp = settings_for(tmp_path, database=tmp_path / "bot.sqlite3")  # an SQLite path that is a directory
    tmp.database.mkdir(parents=True)
    assistant = await Assistant.start(tmp)
    try:
        assert not assistant.store.available
        async with live_bot(tmp, assistant=assistant) as live:
            with reliability_metrics.fault("Discord on an unavailable database", "storage"):
                body = await respond(live, ask_payload("Who attended the meeting?"))
                assert body["type"] == 4 and "Blinken" in body["data"]["embeds"][0]["description"]
                assert not body["data"].get("components"), "feedback buttons for an answer never logged"
                for command in ("list", "add", "stats"):
                    refused = await qa_respond(live, qa(command))
                    assert refused["type"] == 4 and is_ephemeral(refused), refused
                    assert StoreUnavailable().message in refused["data"]["content"]
    finally:
        await assistant.close()


def test_unavailable_message_is_a_store_error() -> None:
    assert issubclass(StoreUnavailable, StoreError)
