"""The identify gate: one IDENTIFY per bucket per interval, across processes (file lock, PostgreSQL)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import pytest_asyncio

from bot.core.store.url import PostgresUrl
from bot.discord_app.identify import (
    BucketLocks,
    FileBucketLocks,
    IdentifyGate,
    PgBucketLocks,
    bucket_locks,
)
from bot.settings import PROJECT_ROOT

INTERVAL = 0.4


def gate(locks: BucketLocks, concurrency: int = 1) -> IdentifyGate:
    async def max_concurrency() -> int:
        return concurrency

    return IdentifyGate(locks, max_concurrency, interval=INTERVAL)


async def timed(coroutine: object) -> float:
    started = time.monotonic()
    await coroutine  # type: ignore[misc]
    return time.monotonic() - started


async def check_spacing(first: IdentifyGate, second: IdentifyGate) -> None:
    """Two "processes" (gates over separate lock handles): same bucket waits, other bucket not."""
    try:
        assert await timed(first.wait_turn(0)) < INTERVAL / 2
        # Shard 2 is in bucket 0 too (concurrency 2): it waits for the interval to pass.
        waited = await timed(second.wait_turn(2))
        assert INTERVAL * 0.8 <= waited < INTERVAL * 3
        # Shard 1 is in bucket 1: no wait, whatever bucket 0 is doing.
        assert await timed(second.wait_turn(1)) < INTERVAL / 2
        # Within one gate too: the next identify in bucket 0 waits for the previous one.
        assert await timed(first.wait_turn(0)) >= INTERVAL * 0.8
    finally:
        await first.close()
        await second.close()


def test_the_lock_follows_the_store(tmp_path: Path) -> None:
    assert isinstance(bucket_locks(tmp_path / "bot.sqlite3"), FileBucketLocks)
    assert isinstance(bucket_locks(PostgresUrl("postgresql://bot:secret@db:5432/bot")), PgBucketLocks)


async def test_file_locks_space_identifies_per_bucket(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    await check_spacing(gate(FileBucketLocks(database), 2), gate(FileBucketLocks(database), 2))
    assert FileBucketLocks(database).path(0).name == "bot.sqlite3.identify-0.lock"


async def test_close_lets_go_at_once(tmp_path: Path) -> None:
    first, second = gate(FileBucketLocks(tmp_path / "db")), gate(FileBucketLocks(tmp_path / "db"))
    await first.wait_turn(0)
    await first.close()
    assert await timed(second.wait_turn(0)) < INTERVAL / 2
    await second.close()


HOLDER = """
import asyncio, sys
from pathlib import Path
from bot.discord_app.identify import FileBucketLocks

async def main():
    await FileBucketLocks(Path(sys.argv[1])).acquire(0)
    print("held", flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


async def test_a_killed_process_never_blocks_the_others(tmp_path: Path) -> None:
    database = tmp_path / "bot.sqlite3"
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HOLDER, str(database), cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE
    )
    try:
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), 30) == b"held\n"
        waiting = asyncio.create_task(gate(FileBucketLocks(database)).wait_turn(0))
        await asyncio.sleep(0.3)
        assert not waiting.done(), "the other process's lock was ignored"
        os.kill(child.pid, signal.SIGKILL)
        await asyncio.wait_for(waiting, 5)
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()


async def test_an_unreachable_lock_warns_and_identifies(caplog: pytest.LogCaptureFixture) -> None:
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    unreachable = gate(PgBucketLocks("postgresql://bot:hunter2@127.0.0.1:9/bot"))
    with caplog.at_level(logging.WARNING):
        assert await timed(unreachable.wait_turn(0)) < 5
    await unreachable.close()
    assert "identify lock for bucket 0 unavailable" in caplog.text
    assert "hunter2" not in caplog.text


# ---------------------------------------------------------------- PostgreSQL


@pytest.fixture
def postgres_url(postgres_url_factory: Callable[[], str]) -> str:
    return postgres_url_factory()


@pytest_asyncio.fixture
async def pg_gates(postgres_url: str) -> AsyncIterator[tuple[IdentifyGate, IdentifyGate]]:
    yield gate(PgBucketLocks(postgres_url), 2), gate(PgBucketLocks(postgres_url), 2)


async def test_postgres_advisory_locks_space_identifies_per_bucket(
    pg_gates: tuple[IdentifyGate, IdentifyGate],
) -> None:
    await check_spacing(*pg_gates)


async def test_postgres_lock_is_released_when_the_session_ends(postgres_url: str) -> None:
    import asyncpg

    from bot.discord_app.identify import PG_LOCK_CLASS

    first = gate(PgBucketLocks(postgres_url))
    await first.wait_turn(0)
    probe = await asyncpg.connect(postgres_url)
    try:
        held = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND granted"
        assert await probe.fetchval(held, PG_LOCK_CLASS) == 1
        await first.close()
        assert await probe.fetchval(held, PG_LOCK_CLASS) == 0
    finally:
        await probe.close()
