"""Discord's identify rate limit, kept across processes.

Discord lets a bot start `max_concurrency` sessions per 5 seconds: shard `s` is in bucket
`s % max_concurrency`, and a bucket takes one IDENTIFY per 5 s. discord.py spaces the shards of one
process; several processes need a lock they all see. With PostgreSQL that is a session advisory
lock on a connection of its own; with SQLite (one machine) an exclusive lock on a file next to the
database. Either dies with its process, so a killed process never blocks the others.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from bot.core.store.url import PostgresUrl

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger(__name__)

#: Discord's window: one IDENTIFY per bucket per this many seconds.
IDENTIFY_INTERVAL = 5.0
#: The first key of the two-key advisory lock (an arbitrary constant: "identify" for this bot),
#: so it never collides with the store's own advisory locks.
PG_LOCK_CLASS = 0x1D3_0001
_POLL_SECONDS = 0.05
#: A database that does not answer must not hold the IDENTIFY back for asyncpg's default minute.
PG_CONNECT_TIMEOUT = 10.0


class HeldLock(Protocol):
    async def release(self) -> None: ...


class BucketLocks(Protocol):
    """A lock per bucket shared by every process of the bot."""

    async def acquire(self, bucket: int) -> HeldLock: ...


class FileBucketLocks:
    """`flock` on `<database>.identify-<bucket>.lock`: every process on this machine sees it, and the
    kernel drops it when its process dies."""

    def __init__(self, database: Path) -> None:
        self.database = database

    def path(self, bucket: int) -> Path:
        return self.database.with_name(f"{self.database.name}.identify-{bucket}.lock")

    async def acquire(self, bucket: int) -> HeldLock:
        import fcntl

        path = self.path(bucket)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return _HeldFile(fd)
                except BlockingIOError:
                    # Polled, not a blocking flock in a thread: waiting stays cancellable.
                    await asyncio.sleep(_POLL_SECONDS)
        except BaseException:
            os.close(fd)
            raise


class _HeldFile:
    def __init__(self, fd: int) -> None:
        self.fd = fd

    async def release(self) -> None:
        # Closing the descriptor releases the flock.
        os.close(self.fd)


class PgBucketLocks:
    """`pg_advisory_lock(PG_LOCK_CLASS, bucket)` on a connection opened for it (a pooled one would
    keep the lock after being handed back). Session locks are re-entrant within a connection, so
    each acquisition has its own."""

    def __init__(self, dsn: str) -> None:
        self._dsn = dsn

    async def acquire(self, bucket: int) -> HeldLock:
        import asyncpg

        connection = await asyncpg.connect(self._dsn, timeout=PG_CONNECT_TIMEOUT)
        try:
            await connection.execute("SELECT pg_advisory_lock($1, $2)", PG_LOCK_CLASS, bucket)
        except BaseException:
            await connection.close()
            raise
        return _HeldPg(connection, bucket)


class _HeldPg:
    def __init__(self, connection: asyncpg.Connection, bucket: int) -> None:
        self.connection = connection
        self.bucket = bucket

    async def release(self) -> None:
        try:
            await self.connection.execute("SELECT pg_advisory_unlock($1, $2)", PG_LOCK_CLASS, self.bucket)
        finally:
            # Closing ends the session, which releases the lock even if the unlock failed.
            await self.connection.close()


def bucket_locks(database: Path | PostgresUrl) -> BucketLocks:
    """The lock every process of this deployment sees: PostgreSQL's when the store is there."""
    if isinstance(database, PostgresUrl):
        return PgBucketLocks(database.dsn())
    return FileBucketLocks(database)


class IdentifyGate:
    """What `before_identify_hook` waits for: this shard's bucket, held `interval` seconds from the
    moment the IDENTIFY goes out, so the next one in the bucket (in any process) waits its turn."""

    def __init__(
        self,
        locks: BucketLocks,
        max_concurrency: Callable[[], Awaitable[int]],
        *,
        interval: float = IDENTIFY_INTERVAL,
    ) -> None:
        self.locks = locks
        self._max_concurrency = max_concurrency
        self._concurrency: int | None = None
        self.interval = interval
        # In-process lock per bucket first: the cross-process lock need not sort out our own shards.
        self._local: dict[int, asyncio.Lock] = {}
        self._holding: dict[asyncio.Task[None], _Turn] = {}

    async def bucket(self, shard_id: int | None) -> int:
        if self._concurrency is None:
            self._concurrency = max(1, await self._max_concurrency())
        return (shard_id or 0) % self._concurrency

    async def wait_turn(self, shard_id: int | None) -> None:
        bucket = await self.bucket(shard_id)
        local = self._local.setdefault(bucket, asyncio.Lock())
        await local.acquire()
        try:
            held: HeldLock | None = await self.locks.acquire(bucket)
        except asyncio.CancelledError:
            local.release()
            raise
        except Exception as exc:
            # The database is down or unreachable: identify anyway (discord.py retries if Discord
            # refuses), spaced within this process. The exception's class only: a connection
            # error's text can carry the database URL.
            log.warning("identify lock for bucket %d unavailable (%s)", bucket, type(exc).__name__)
            held = None
        log.info("shard %s may identify (bucket %d)", shard_id, bucket)
        turn = _Turn(local, held)
        task = asyncio.create_task(self._release_later(turn), name=f"identify-bucket-{bucket}")
        self._holding[task] = turn
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._holding.pop(task, None)

    async def _release_later(self, turn: _Turn) -> None:
        await asyncio.sleep(self.interval)
        await turn.release()

    async def close(self) -> None:
        """Let go of every bucket now (the process is stopping)."""
        turns = list(self._holding.items())
        for task, _ in turns:
            task.cancel()
        await asyncio.gather(*(task for task, _ in turns), return_exceptions=True)
        # A task cancelled before it ever ran never reached its release: do it here.
        for _, turn in turns:
            await turn.release()


class _Turn:
    """One bucket held for one IDENTIFY: the in-process lock and the cross-process one."""

    def __init__(self, local: asyncio.Lock, held: HeldLock | None) -> None:
        self.local = local
        self.held = held
        self.released = False

    async def release(self) -> None:
        if self.released:
            return
        self.released = True
        try:
            if self.held is not None:
                await self.held.release()
        except Exception as exc:
            log.warning("could not release an identify lock (%s)", type(exc).__name__)
        finally:
            self.local.release()
