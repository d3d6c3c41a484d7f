"""The SQLite engine of the store (the embedded default).

One `SQLiteStore` owns one aiosqlite connection for writes and one for reads. Every write is
serialised by an `asyncio.Lock` and runs in an explicit `BEGIN IMMEDIATE` transaction, so two
coroutines of the bot never interleave inside a transaction, and two processes (or two
connections) on the same file never both win a version check.

Connection settings: WAL journal with `synchronous=NORMAL`: a write acknowledged to a moderator
survives a crash or kill of the process (tests/reliability kills a writer 50 times); only a
power loss can undo the last commits, never corrupt the file. FULL would fsync every question
logged and cost a third of the bot's throughput. `foreign_keys=ON`, the caller's busy timeout.
A database that cannot be written (read-only file, directory or file system, or
`read_only=True`) still opens: reads work and every write raises `StoreReadOnly`.

Changes by other processes: `PRAGMA data_version` on the read connection changes whenever any
other connection commits, so polling it costs one cheap statement; only then are the scopes'
change counters read.

This module is part of the core: it never imports discord.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Self, cast
from urllib.parse import quote

import aiosqlite

from bot.core.models import Scope
from bot.core.offload import run_heavy
from bot.core.store.base import ChangeFeed, Store, WriteTx
from bot.core.store.common import api_scope, aware, db_scope, normalize_logged_question, utc_now
from bot.core.store.errors import (
    QuestionNotFound,
    StoreBusy,
    StoreError,
    StoreFull,
    StoreReadOnly,
    StoreUnavailable,
)
from bot.core.store.migrations import load_migrations, split_sql
from bot.core.store.models import (
    EntryRow,
    EntrySummary,
    EntryVersion,
    GuildStats,
    LoggedQuestion,
    QuestionStat,
    StoredEntry,
    VersionRow,
    stored_entries,
    summary,
)

log = logging.getLogger(__name__)

_ENTRY_COLUMNS: Final = "scope, id, version, data, content_hash, deleted, origin, updated_at, updated_by"
_VERSION_COLUMNS: Final = "scope, id, version, action, data, actor_id, at, note"


# --------------------------------------------------------------------------------------------
# Errors and conversions.
# --------------------------------------------------------------------------------------------


def _cause_of(path: Path, exc: BaseException) -> str:
    """What is wrong with the database file, in words an operator can act on."""
    original: BaseException = exc
    while original.__cause__ is not None and not isinstance(original, sqlite3.Error | OSError):
        original = original.__cause__
    if isinstance(original, sqlite3.Error):
        code = _error_code(original)
        text = str(original)
        if code == sqlite3.SQLITE_NOTADB or "not a database" in text:
            return f"it is not an SQLite database (damaged, truncated or another kind of file: {text})"
        if code == sqlite3.SQLITE_CORRUPT or "malformed" in text:
            return f"the file is damaged ({text})"
        if code == sqlite3.SQLITE_FULL or "full" in text:
            return f"the disk is full ({text})"
        if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
            return f"another process kept it locked for longer than the busy timeout ({text})"
        if code == sqlite3.SQLITE_IOERR or "disk I/O error" in text:
            return f"the disk refused a write: it is full or failing ({text})"
        if code == sqlite3.SQLITE_CANTOPEN or "unable to open" in text:
            return f"SQLite cannot open it ({text}); check the path and its permissions"
        return f"SQLite error: {text}"
    if isinstance(original, OSError):
        return f"{original.strerror or original}"
    if isinstance(exc, StoreError):
        return exc.message
    return f"{type(exc).__name__}: {exc}"


def _error_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _translate(exc: sqlite3.Error) -> StoreError:
    """Map a sqlite3 error to the store's polite errors (the one place that does this)."""
    code = _error_code(exc)
    text = str(exc).lower()
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text or "busy" in text:
        return StoreBusy()
    if code == sqlite3.SQLITE_READONLY or "readonly database" in text or "read-only" in text:
        return StoreReadOnly()
    if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
        return StoreFull()
    return StoreError()


@contextmanager
def _sql_errors() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as exc:
        err = _translate(exc)
        # INFO: the caller decides what it means (a dropped log entry, a refused edit, a
        # degraded start-up) and warns in its own words; one fault, one warning.
        log.info("SQLite error mapped to %s: %s", type(err).__name__, exc)
        raise err from exc


async def _rollback_quietly(db: aiosqlite.Connection) -> None:
    with suppress(sqlite3.OperationalError):  # no transaction was active (BEGIN itself failed)
        await db.execute("ROLLBACK")


def _ts(moment: datetime) -> str:
    """ISO-8601 UTC with a fixed width, so stored timestamps compare correctly as text."""
    return aware(moment).isoformat(timespec="microseconds")


def _parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _since(since: datetime | None) -> str:
    # The empty string sorts before every timestamp, so "no lower bound" needs no second query.
    return "" if since is None else _ts(since)


def _entry_row(row: sqlite3.Row) -> EntryRow:
    return EntryRow(
        scope=row["scope"],
        id=row["id"],
        version=row["version"],
        data=row["data"],
        content_hash=row["content_hash"],
        deleted=bool(row["deleted"]),
        origin=row["origin"],
        updated_at=_parse_ts(row["updated_at"]),
        updated_by=row["updated_by"],
    )


def _stored(rows: Iterable[sqlite3.Row]) -> list[StoredEntry]:
    return stored_entries(_entry_row(r) for r in rows)


def _version_row(row: sqlite3.Row) -> VersionRow:
    return VersionRow(
        scope=row["scope"],
        id=row["id"],
        version=row["version"],
        action=row["action"],
        data=row["data"],
        actor_id=row["actor_id"],
        at=_parse_ts(row["at"]),
        note=row["note"],
    )


def _summaries(rows: Iterable[sqlite3.Row]) -> list[EntrySummary]:
    out: list[EntrySummary] = []
    for row in rows:
        item = summary(
            row["id"], bool(row["deleted"]), str(row["updated_at"]), row["questions"], row["answer"]
        )
        if item is not None:
            out.append(item)
    return out


async def _first(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row | None:
    async with db.execute(sql, params) as cursor:
        row: sqlite3.Row | None = await cursor.fetchone()
    return row


async def _one(db: aiosqlite.Connection, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Row:
    """The single row of an aggregate query."""
    row = await _first(db, sql, params)
    if row is None:  # pragma: no cover - aggregates always return a row
        raise StoreError()
    return row


# --------------------------------------------------------------------------------------------
# The write transaction: the primitives of the shared curation rules.
# --------------------------------------------------------------------------------------------


class _SQLiteTx(WriteTx):
    def __init__(self, db: aiosqlite.Connection) -> None:
        super().__init__()
        self.db = db

    async def lock_scope(self, scope: int) -> None:
        """Nothing to do: `BEGIN IMMEDIATE` already holds the database's one write lock."""

    async def entry_row(self, scope: int, entry_id: str) -> EntryRow | None:
        row = await _first(
            self.db, f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE scope = ? AND id = ?", (scope, entry_id)
        )
        return None if row is None else _entry_row(row)

    async def scope_rows(self, scope: int) -> list[EntryRow]:
        rows = await self.db.execute_fetchall(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE scope = ?", (scope,)
        )
        return [_entry_row(r) for r in rows]

    async def active_count(self, scope: int) -> int:
        row = await _one(self.db, "SELECT COUNT(*) FROM entries WHERE scope = ? AND deleted = 0", (scope,))
        return int(row[0])

    async def version_data(self, scope: int, entry_id: str, version: int) -> tuple[bool, str | None]:
        row = await _first(
            self.db,
            "SELECT data FROM entry_versions WHERE scope = ? AND id = ? AND version = ?",
            (scope, entry_id, version),
        )
        return (False, None) if row is None else (True, row["data"])

    async def put_entry(self, row: EntryRow) -> None:
        await self.db.execute(
            "INSERT INTO entries"
            " (scope, id, version, data, content_hash, deleted, origin, updated_at, updated_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (scope, id) DO UPDATE SET version = excluded.version, data = excluded.data,"
            " content_hash = excluded.content_hash, deleted = excluded.deleted, origin = excluded.origin,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (
                row.scope,
                row.id,
                row.version,
                row.data,
                row.content_hash,
                int(row.deleted),
                row.origin,
                _ts(row.updated_at),
                row.updated_by,
            ),
        )

    async def insert_version(self, row: VersionRow) -> None:
        await self.db.execute(
            f"INSERT INTO entry_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (row.scope, row.id, row.version, row.action, row.data, row.actor_id, _ts(row.at), row.note),
        )

    async def publish(self) -> None:
        """Bump the change counter of every scope this transaction changed (before COMMIT)."""
        for scope in sorted(self.changed):
            await self.db.execute(
                "INSERT INTO scope_versions (scope, version) VALUES (?, 1)"
                " ON CONFLICT (scope) DO UPDATE SET version = version + 1",
                (scope,),
            )


class _DataVersionFeed(ChangeFeed):
    """Polls `PRAGMA data_version` on a connection of its own that never writes: its value
    changes exactly when some other connection (of this process or another) committed."""

    def __init__(self, path: Path, poll_interval: float) -> None:
        self._path = path
        self._poll = poll_interval
        self._db: aiosqlite.Connection | None = None
        self._last: int | None = None

    async def _version(self) -> int:
        if self._db is None:
            self._db = await aiosqlite.connect(self._path, isolation_level=None)
        row = await _one(self._db, "PRAGMA data_version")
        return int(row[0])

    async def wait(self, timeout: float) -> set[Scope] | None:  # noqa: ASYNC109
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                current = await self._version()
            except sqlite3.Error as exc:
                log.info("change feed: cannot read data_version (%s); comparing everything", exc)
                await self.close()
                await asyncio.sleep(min(self._poll, max(0.0, deadline - loop.time())))
                return None
            first, changed = self._last is None, current != self._last
            self._last = current
            if first or changed:
                # First look: whatever committed before it is compared once, as a reconnect is.
                return None  # the counters say which scopes
            left = deadline - loop.time()
            if left <= 0:
                return set()
            await asyncio.sleep(min(self._poll, left))

    async def close(self) -> None:
        db, self._db = self._db, None
        if db is not None:
            await db.close()


# --------------------------------------------------------------------------------------------
# The store.
# --------------------------------------------------------------------------------------------


class SQLiteStore(Store):
    """Async SQLite store. Open with `await SQLiteStore.open(path)` (or `Store.open`)."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        path: Path,
        *,
        read_only: bool,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._db: aiosqlite.Connection | None = db
        #: A second connection for reads, so that a read never queues behind a write waiting
        #: for another process's lock (WAL lets readers and one writer work at once).
        self._reader: aiosqlite.Connection | None = None
        self._path = path
        self._read_only = read_only
        self._clock = clock
        self._lock = asyncio.Lock()
        self._read_lock = asyncio.Lock()
        #: Why the database could not be opened (None: it is open).
        self._unavailable: str | None = None

    # ---- opening and closing ---------------------------------------------------------------

    @classmethod
    async def open(  # type: ignore[override]
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        read_only: bool = False,
        clock: Callable[[], datetime] | None = None,
        pool_size: int | None = None,
    ) -> Self:
        """Connect, configure and migrate. Falls back to read-only if the file cannot be written.

        `clock` (returning an aware UTC datetime) is for tests; it stamps every write. Any
        failure (a directory, a damaged or foreign file, a full disk, a lock held too long)
        raises `StoreUnavailable` naming the file and the cause. `pool_size` is PostgreSQL's.
        """
        db_path = Path(path)
        try:
            if await asyncio.to_thread(db_path.is_dir):
                raise StoreUnavailable(db_path, "it is a directory, not a database file")
            store = await cls._open(db_path, busy_timeout, read_only, clock or utc_now)
        except StoreUnavailable:
            raise
        except (StoreError, sqlite3.Error, OSError, ValueError) as exc:
            raise StoreUnavailable(db_path, _cause_of(db_path, exc)) from exc
        try:
            await store._open_reader(busy_timeout)
        except BaseException:
            await store.close()
            raise
        return store

    @classmethod
    def unavailable(cls, path: object, cause: str) -> Self:
        """A store that could not be opened: every operation raises `StoreUnavailable`."""
        store = cls.__new__(cls)
        SQLiteStore.__init__(store, cast(aiosqlite.Connection, None), Path(str(path)), read_only=True)
        store._unavailable = cause
        return store

    @classmethod
    async def _open(
        cls, db_path: Path, busy_timeout: float, read_only: bool, now: Callable[[], datetime]
    ) -> Self:
        if not read_only and not _writable(db_path):
            log.warning("Database %s is not writable; opening it read-only", db_path)
            read_only = True
        if not read_only:
            try:
                db = await _connect_rw(db_path, busy_timeout)
            except StoreReadOnly:
                log.warning("Database %s is read-only; opening it read-only", db_path)
            else:
                store = cls(db, db_path, read_only=False, clock=now)
                try:
                    await store._migrate()
                except StoreReadOnly:
                    await store.close()
                    log.warning("Database %s cannot be written; opening it read-only", db_path)
                except BaseException:
                    await store.close()
                    raise
                else:
                    return store
        store = cls(await _connect_ro(db_path, busy_timeout), db_path, read_only=True, clock=now)
        try:
            if await store.schema_version() == 0:
                raise StoreUnavailable(
                    db_path, "it has none of this bot's tables, and it cannot be written to create them"
                )
        except BaseException:
            await store.close()
            raise
        return store

    async def _open_reader(self, busy_timeout: float) -> None:
        """The read connection of a writable store (a read-only store reads on its one connection)."""
        if self._read_only:
            return
        reader = await aiosqlite.connect(self._path, timeout=busy_timeout, isolation_level=None)
        try:
            await _configure(reader)
            await reader.execute("PRAGMA query_only = ON")
        except BaseException:
            await reader.close()
            raise
        self._reader = reader

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await reader.close()
        db, self._db = self._db, None
        if db is not None:
            await db.close()

    @property
    def available(self) -> bool:
        """False when the database could not be opened (see `unavailable`)."""
        return self._unavailable is None

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def path(self) -> Path:
        return self._path

    @property
    def location(self) -> str:
        return str(self._path)

    # ---- the two access paths: every query goes through one of these ---------------------

    def _conn(self) -> aiosqlite.Connection:
        if self._unavailable is not None:
            raise StoreUnavailable(self._path, self._unavailable)
        if self._db is None:
            raise StoreError("The knowledge base is closed.")
        return self._db

    @asynccontextmanager
    async def _reading(self) -> AsyncIterator[aiosqlite.Connection]:
        if self._reader is None:
            async with self._lock:
                with _sql_errors():
                    yield self._conn()
            return
        async with self._read_lock:
            self._conn()  # raises if closed
            with _sql_errors():
                yield self._reader

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[aiosqlite.Connection]:
        """One `BEGIN IMMEDIATE` transaction: committed on success, rolled back on any error.

        Cancellation-safe: aiosqlite runs queued statements in order even when the awaiting
        task is cancelled, so the ROLLBACK queued here always follows the BEGIN it undoes.
        """
        if self._unavailable is not None:
            raise StoreUnavailable(self._path, self._unavailable)
        if self._read_only:
            raise StoreReadOnly()
        async with self._lock:
            db = self._conn()
            with _sql_errors():
                if db.in_transaction:  # left open by a failed rollback; never inherit it
                    await _rollback_quietly(db)
                try:
                    await db.execute("BEGIN IMMEDIATE")
                    yield db
                except BaseException:
                    await _rollback_quietly(db)
                    raise
                await db.execute("COMMIT")

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_SQLiteTx]:
        async with self._writing() as db:
            tx = _SQLiteTx(db)
            yield tx
            await tx.publish()

    # ---- migrations -----------------------------------------------------------------------

    async def _migrate(self) -> list[int]:
        """Apply every pending migration, each in its own transaction; returns what was applied.

        An up-to-date database is only read: starting never waits for another process's lock."""
        migrations = load_migrations("sqlite")
        if await self.schema_version() >= migrations[-1].version:
            return []
        async with self._writing() as db:
            await db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
        applied: list[int] = []
        for migration in migrations:
            async with self._writing() as db:
                # Checked inside the write lock: two processes starting together apply it once.
                rows = await db.execute_fetchall(
                    "SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)
                )
                if rows:
                    continue
                for statement in split_sql(migration.sql):
                    await db.execute(statement)
                await db.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                    (migration.version, migration.name, _ts(self._clock())),
                )
                applied.append(migration.version)
                log.info("Applied migration %04d_%s", migration.version, migration.name)
        return applied

    async def schema_version(self) -> int:
        """The highest applied migration (0 for an empty database)."""
        async with self._reading() as db:
            exists = await db.execute_fetchall(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
            )
            if not exists:
                return 0
            row = await _one(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        return int(row[0])

    async def applied_migrations(self) -> list[tuple[int, str, datetime]]:
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
            )
        return [(r["version"], r["name"], _parse_ts(r["applied_at"])) for r in rows]

    # ---- reads ----------------------------------------------------------------------------

    async def active_entries(self, scope: Scope, *, include_removed: bool = False) -> list[StoredEntry]:
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE scope = ? AND (deleted = 0 OR ?) ORDER BY id",
                (db_scope(scope), int(include_removed)),
            )
        return await run_heavy(_stored, rows)

    async def entry_summaries(self, scope: Scope, *, include_removed: bool = False) -> list[EntrySummary]:
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT id, deleted, updated_at, json_extract(data, '$.questions') AS questions,"
                " json_extract(data, '$.answer') AS answer FROM entries"
                " WHERE scope = ? AND (deleted = 0 OR ?) ORDER BY id",
                (db_scope(scope), int(include_removed)),
            )
        return await run_heavy(_summaries, rows)

    async def all_active_entries(self) -> list[StoredEntry]:
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE deleted = 0 ORDER BY scope, id"
            )
        # Parsed in a worker thread: thousands of entries would hold the event loop for seconds.
        return await run_heavy(_stored, rows)

    async def get_entry(
        self, scope: Scope, entry_id: str, *, include_deleted: bool = False
    ) -> StoredEntry | None:
        async with self._reading() as db:
            row = await _first(
                db,
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE scope = ? AND id = ?",
                (db_scope(scope), entry_id),
            )
        if row is None or (row["deleted"] and not include_deleted):
            return None
        return _entry_row(row).stored()

    async def count_entries(self, scope: Scope) -> int:
        async with self._reading() as db:
            row = await _one(
                db, "SELECT COUNT(*) FROM entries WHERE scope = ? AND deleted = 0", (db_scope(scope),)
            )
        return int(row[0])

    async def search_entry_ids(self, scope: Scope, text: str, limit: int = 25) -> list[str]:
        needle = text.strip().lower()
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT id FROM entries WHERE scope = ? AND deleted = 0 AND instr(id, ?) > 0"
                " ORDER BY instr(id, ?) <> 1, id LIMIT ?",
                (db_scope(scope), needle, needle, max(0, limit)),
            )
        return [r["id"] for r in rows]

    async def history(self, scope: Scope, entry_id: str) -> list[EntryVersion]:
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_VERSION_COLUMNS} FROM entry_versions WHERE scope = ? AND id = ? ORDER BY version",
                (db_scope(scope), entry_id),
            )
        return [_version_row(r).entry_version() for r in rows]

    # ---- change counters ------------------------------------------------------------------

    async def scope_versions(self, scopes: Iterable[Scope] | None = None) -> dict[Scope, int]:
        wanted = None if scopes is None else sorted({db_scope(s) for s in scopes})
        sql = "SELECT scope, version FROM scope_versions"
        if wanted is not None:  # autocomplete asks for one server at every keystroke
            sql += f" WHERE scope IN ({', '.join('?' * len(wanted))})"
        async with self._reading() as db:
            rows = await db.execute_fetchall(sql, wanted or ())
        return {api_scope(r[0]): int(r[1]) for r in rows}

    def change_feed(self, poll_interval: float) -> ChangeFeed:
        self._conn()  # raises if unavailable or closed
        return _DataVersionFeed(self._path, poll_interval)

    # ---- question log and feedback --------------------------------------------------------

    async def log_question(
        self,
        scope: Scope,
        channel_id: int | None,
        user_id: int | None,
        question: str,
        answered: bool,
        entry_id: str | None,
        confidence: float,
    ) -> int:
        """Record an asked question; returns its id (for feedback buttons)."""
        async with self._writing() as db:
            cursor = await db.execute(
                "INSERT INTO question_log"
                " (scope, channel_id, user_id, question, question_norm, answered, entry_id, confidence, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    db_scope(scope),
                    channel_id,
                    user_id,
                    question,
                    normalize_logged_question(question),
                    int(answered),
                    entry_id,
                    float(confidence),
                    _ts(self._clock()),
                ),
            )
            question_id = cursor.lastrowid
            await cursor.close()
        if question_id is None:  # pragma: no cover - an INSERT always sets it
            raise StoreError()
        return question_id

    async def log_questions(self, questions: Sequence[LoggedQuestion]) -> int:
        """Record many asked questions, with the ids they were given, in one transaction;
        returns how many were written (an id already taken is skipped, never overwritten)."""
        rows = [
            (
                q.id,
                db_scope(q.scope),
                q.channel_id,
                q.user_id,
                q.question,
                normalize_logged_question(q.question),
                int(q.answered),
                q.entry_id,
                float(q.confidence),
                _ts(q.at),
            )
            for q in questions
        ]
        async with self._writing() as db:
            before = db.total_changes
            await db.executemany(
                "INSERT INTO question_log (id, scope, channel_id, user_id, question, question_norm,"
                " answered, entry_id, confidence, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO NOTHING",
                rows,
            )
            written = db.total_changes - before
        return int(written)

    async def record_feedback(self, question_id: int, user_id: int, helpful: bool) -> None:
        """One vote per user per answer: a second vote by the same user replaces the first."""
        async with self._writing() as db:
            known = await db.execute_fetchall("SELECT 1 FROM question_log WHERE id = ?", (question_id,))
            if not known:
                raise QuestionNotFound(question_id)
            await db.execute(
                "INSERT INTO feedback (question_id, user_id, helpful, at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (question_id, user_id)"
                " DO UPDATE SET helpful = excluded.helpful, at = excluded.at",
                (question_id, user_id, int(helpful), _ts(self._clock())),
            )

    async def feedback_counts(self, question_id: int) -> tuple[int, int]:
        """(helpful, not helpful) votes on one answer."""
        async with self._reading() as db:
            row = await _one(
                db,
                "SELECT COALESCE(SUM(helpful), 0), COALESCE(SUM(1 - helpful), 0)"
                " FROM feedback WHERE question_id = ?",
                (question_id,),
            )
        return int(row[0]), int(row[1])

    async def unanswered_questions(
        self, scope: Scope, since: datetime | None = None, limit: int = 50
    ) -> list[QuestionStat]:
        """Questions no entry answered (declined, or answered only from the article text: no
        entry id), grouped by lower-cased, whitespace-folded text; most asked first."""
        async with self._reading() as db:
            # SQLite returns the bare column `question` from the row holding MAX(at).
            rows = await db.execute_fetchall(
                "SELECT question, COUNT(*) AS n, MAX(at) AS last_at FROM question_log"
                " WHERE scope = ? AND (answered = 0 OR entry_id IS NULL) AND at >= ?"
                " GROUP BY question_norm ORDER BY n DESC, last_at DESC, question_norm LIMIT ?",
                (db_scope(scope), _since(since), max(0, limit)),
            )
        return [
            QuestionStat(question=r["question"], count=r["n"], last_asked=_parse_ts(r["last_at"]))
            for r in rows
        ]

    async def guild_stats(self, scope: Scope, since: datetime | None = None, *, top: int = 5) -> GuildStats:
        """Questions asked/answered, the most used entries and feedback totals of one scope."""
        params = (db_scope(scope), _since(since))
        async with self._reading() as db:
            totals = await _one(
                db,
                "SELECT COUNT(*), COALESCE(SUM(answered), 0) FROM question_log WHERE scope = ? AND at >= ?",
                params,
            )
            top_rows = await db.execute_fetchall(
                "SELECT entry_id, COUNT(*) AS n FROM question_log"
                " WHERE scope = ? AND at >= ? AND answered = 1 AND entry_id IS NOT NULL"
                " GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT ?",
                (*params, max(0, top)),
            )
            votes = await _one(
                db,
                "SELECT COALESCE(SUM(f.helpful), 0), COALESCE(SUM(1 - f.helpful), 0)"
                " FROM feedback AS f JOIN question_log AS q ON q.id = f.question_id"
                " WHERE q.scope = ? AND q.at >= ?",
                params,
            )
        return GuildStats(
            asked=int(totals[0]),
            answered=int(totals[1]),
            top_entries=[(r["entry_id"], int(r["n"])) for r in top_rows],
            helpful=int(votes[0]),
            not_helpful=int(votes[1]),
        )

    # ---- server settings ------------------------------------------------------------------

    async def get_moderator_role(self, guild_id: int) -> int | None:
        async with self._reading() as db:
            row = await _first(
                db, "SELECT moderator_role_id FROM guild_config WHERE guild_id = ?", (guild_id,)
            )
        return None if row is None else cast(int | None, row[0])

    async def set_moderator_role(self, guild_id: int, role_id: int | None, actor_id: int) -> None:
        """Set (or clear, with None) the role whose members may curate this server's entries."""
        async with self._writing() as db:
            await db.execute(
                "INSERT INTO guild_config (guild_id, moderator_role_id, updated_at, updated_by)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET moderator_role_id = excluded.moderator_role_id,"
                " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                (guild_id, role_id, _ts(self._clock()), actor_id),
            )


# --------------------------------------------------------------------------------------------
# Connecting.
# --------------------------------------------------------------------------------------------


def _writable(path: Path) -> bool:
    """Whether the file (or, if missing, its nearest existing directory) can be written.

    Creates the parent directory when it can. Root passes every permission check, so a
    root process only learns of a read-only file when SQLite refuses the first write.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    if path.exists():
        return os.access(path, os.R_OK | os.W_OK) and os.access(path.parent, os.W_OK | os.X_OK)
    return os.access(path.parent, os.W_OK | os.X_OK)


async def _configure(db: aiosqlite.Connection) -> None:
    # The busy timeout is set by `connect(timeout=...)` (sqlite3_busy_timeout), not a PRAGMA.
    db.row_factory = aiosqlite.Row
    await db.execute("PRAGMA foreign_keys = ON")
    await db.execute("PRAGMA synchronous = NORMAL")  # see the module docstring


async def _connect_rw(path: Path, busy_timeout: float) -> aiosqlite.Connection:
    try:
        db = await aiosqlite.connect(path, timeout=busy_timeout, isolation_level=None)
    except sqlite3.OperationalError as exc:
        raise StoreReadOnly() from exc
    try:
        with _sql_errors():
            await _configure(db)
            rows = list(await db.execute_fetchall("PRAGMA journal_mode = WAL"))
    except BaseException:
        await db.close()
        raise
    if str(rows[0][0]).lower() != "wal":
        log.warning("SQLite refused WAL mode for %s (journal_mode=%s)", path, rows[0][0])
    return db


def _ro_uri(path: Path) -> str:
    if not path.exists():
        raise StoreUnavailable(path, "it does not exist, and it cannot be created here")
    return "file:" + quote(str(path.resolve()))


async def _connect_ro(path: Path, busy_timeout: float) -> aiosqlite.Connection:
    """Open without write access; if the WAL index cannot be created either, open immutable.

    Immutable ignores the write-ahead log, so it is refused when a non-empty `-wal` file
    stands beside the database: its changes would be silently missing (stale entries, or "no
    such table" for a database whose tables are still only in the log)."""
    base = _ro_uri(path)
    last: BaseException | None = None
    for uri in (base + "?mode=ro", base + "?mode=ro&immutable=1"):
        if uri.endswith("immutable=1") and _has_wal(path):
            raise StoreUnavailable(
                path,
                f"its write-ahead log {path.name}-wal holds changes that cannot be read, because "
                "the directory is read-only (SQLite needs to create the -shm file beside it); "
                "make the directory writable, or checkpoint the database where it can be written",
            )
        try:
            db = await aiosqlite.connect(uri, uri=True, timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            last = exc
            continue
        try:
            await _configure(db)
            await db.execute_fetchall("SELECT COUNT(*) FROM sqlite_master")
        except sqlite3.Error as exc:
            last = exc
            await db.close()
            continue
        if uri.endswith("immutable=1"):
            log.warning("Opened %s immutable: changes by other processes will not be seen", path)
        return db
    raise StoreUnavailable(path, _cause_of(path, last) if last else "it cannot be read")


def _has_wal(path: Path) -> bool:
    wal = path.with_name(path.name + "-wal")
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False
