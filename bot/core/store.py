"""The SQLite store: entries with full history, the question log, feedback, server settings.

One `Store` owns one aiosqlite connection. Every operation on it is serialised by an
`asyncio.Lock`, and every write runs in an explicit `BEGIN IMMEDIATE` transaction, so two
coroutines of the bot never interleave inside a transaction, and two processes (or two
connections) on the same file never both win a version check.

Scopes: `None` is the curated global base (scope 0 in the database: SQLite treats NULLs as
distinct in keys, and a Discord id is never 0); an int is a Discord server (guild) id. The base
is written only by `seed_base`; the curation API refuses it with `ReadOnlyScope`.

Connection settings: WAL journal with `synchronous=NORMAL`: a write acknowledged to a moderator
survives a crash or kill of the process (tests/reliability kills a writer 50 times); only a
power loss can undo the last commits, never corrupt the file. FULL would fsync every question
logged and cost a third of the bot's throughput. `foreign_keys=ON`, the caller's busy timeout.
A database that cannot be written (read-only file, directory or file system, or
`read_only=True`) still opens: reads work and every write raises `StoreReadOnly`.

This module is part of the core: it never imports discord.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Final, Literal, Self, cast
from urllib.parse import quote

import aiosqlite
from pydantic import BaseModel, ConfigDict

from bot.core.models import Entry, Scope
from bot.core.offload import run_heavy
from bot.core.text import normalize_verbatim

log = logging.getLogger(__name__)

#: The database value of the curated global base (`Scope` None).
BASE_SCOPE: Final = 0

Action = Literal["seed", "create", "edit", "remove", "revert", "import"]
Origin = Literal["file", "discord"]

_MIGRATIONS_PACKAGE: Final = "bot.core.migrations"
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


# --------------------------------------------------------------------------------------------
# Errors: every message is fit to show a Discord user as it is.
# --------------------------------------------------------------------------------------------


class StoreError(Exception):
    """Base class of every error the store raises; the message is polite and user-facing."""

    default_message = "The knowledge base could not complete that request; please try again later."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class StoreBusy(StoreError):
    """SQLite stayed locked by another writer for longer than the busy timeout."""

    default_message = "The knowledge base is busy right now; please try again in a moment."


class StoreReadOnly(StoreError):
    """The database cannot be written (opened read-only, or the file/directory is read-only)."""

    default_message = (
        "The knowledge base is read-only at the moment, so changes cannot be saved. "
        "Answers still work; please ask the bot's operator to check its storage."
    )


class StoreFull(StoreError):
    """The disk (or the database's size limit) is full: nothing more can be written."""

    default_message = (
        "The bot's storage is full, so that change could not be saved. "
        "Answers still work; please ask the bot's operator to free some disk space."
    )


class StoreUnavailable(StoreError):
    """The database could not be opened at all; the bot answers from the curated files only.

    `message` is for users; `cause` (with `path`) is for the operator's log: it names the
    file and what is wrong with it."""

    default_message = (
        "The bot's database is unavailable right now, so server entries, curation and statistics "
        "cannot be used. Answers from the curated knowledge base still work; please ask the bot's "
        "operator to check its storage."
    )

    def __init__(self, path: Path | None = None, cause: str = "unknown") -> None:
        self.path = path
        self.cause = cause
        super().__init__()

    def describe(self) -> str:
        """One line for the operator: which file, and why it cannot be used."""
        return f"the database {self.path} cannot be used: {self.cause}"


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


class ReadOnlyScope(StoreError):
    """A curation write aimed at the curated global base, which only the knowledge files change."""

    default_message = (
        "The curated knowledge base is read-only from Discord; "
        "it changes only through the knowledge files. Add a server entry instead."
    )


class EntryNotFound(StoreError):
    def __init__(self, entry_id: str, message: str | None = None) -> None:
        self.entry_id = entry_id
        super().__init__(message or f"There is no entry '{entry_id}' here.")


class EntryExists(StoreError):
    def __init__(self, entry_id: str, message: str | None = None) -> None:
        self.entry_id = entry_id
        super().__init__(message or f"An entry with the id '{entry_id}' already exists here.")


class VersionConflict(StoreError):
    """The entry changed since the caller read it (optimistic concurrency check failed)."""

    def __init__(self, entry_id: str, expected: int, actual: int) -> None:
        self.entry_id = entry_id
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Someone else changed entry '{entry_id}' while you were editing it "
            f"(you had version {expected}, it is now version {actual}). "
            "Please reload it and try again."
        )


class LimitExceeded(StoreError):
    def __init__(self, message: str, *, limit: int | None = None) -> None:
        self.limit = limit
        super().__init__(message)


class QuestionNotFound(StoreError):
    def __init__(self, question_id: int) -> None:
        self.question_id = question_id
        super().__init__("That answer is too old or unknown, so feedback on it cannot be recorded.")


# --------------------------------------------------------------------------------------------
# What the store returns.
# --------------------------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StoredEntry(_Model):
    scope: Scope
    entry: Entry
    version: int
    deleted: bool
    origin: str
    updated_at: datetime
    updated_by: int | None

    @property
    def id(self) -> str:
        return self.entry.id


@dataclass(frozen=True)
class EntrySummary:
    """What a search over a server's entries needs: far lighter than a whole `StoredEntry`."""

    id: str
    deleted: bool
    updated_at: str
    questions: list[str]
    answer: str


def _summaries(rows: Iterable[sqlite3.Row]) -> list[EntrySummary]:
    out: list[EntrySummary] = []
    for row in rows:
        try:
            questions = json.loads(row["questions"] or "[]")
        except ValueError:
            continue  # a damaged row: `active_entries` names it
        if not isinstance(questions, list):
            continue
        out.append(
            EntrySummary(
                id=row["id"],
                deleted=bool(row["deleted"]),
                updated_at=str(row["updated_at"]),
                questions=[str(q) for q in questions],
                answer=str(row["answer"] or ""),
            )
        )
    return out


class EntryVersion(_Model):
    scope: Scope
    entry_id: str
    version: int
    action: str
    #: The entry's content after the change; None for a removal.
    entry: Entry | None
    actor_id: int | None
    at: datetime
    note: str | None


class SeedReport(_Model):
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


class QuestionStat(_Model):
    #: The most recent phrasing as asked (the group key is its lower-cased, whitespace-folded form).
    question: str
    count: int
    last_asked: datetime


class GuildStats(_Model):
    asked: int
    answered: int
    #: (entry id, times answered with it), most used first.
    top_entries: list[tuple[str, int]]
    helpful: int
    not_helpful: int


@dataclass(frozen=True)
class LoggedQuestion:
    """One asked question for the log, with the id it was given when it was answered."""

    id: int
    scope: Scope
    channel_id: int | None
    user_id: int | None
    question: str
    answered: bool
    entry_id: str | None
    confidence: float
    at: datetime


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


# --------------------------------------------------------------------------------------------
# Boundary helpers: scope mapping, canonical JSON, time, SQL error mapping, row conversion.
# --------------------------------------------------------------------------------------------


def _db_scope(scope: Scope) -> int:
    if scope is None:
        return BASE_SCOPE
    if scope == BASE_SCOPE:
        raise ValueError("scope 0 is reserved for the global base; pass None for it")
    return scope


def _api_scope(value: int) -> Scope:
    return None if value == BASE_SCOPE else value


def _curation_scope(scope: Scope) -> int:
    """The database scope of a curation write; the base (None or 0) is refused."""
    if scope is None or scope == BASE_SCOPE:
        raise ReadOnlyScope()
    return scope


def canonical_json(entry: Entry) -> str:
    """The stable JSON form of an entry: what is stored and what the content hash covers."""
    return json.dumps(
        entry.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def content_hash(entry_json: str) -> str:
    return hashlib.sha256(entry_json.encode("utf-8")).hexdigest()


def normalize_logged_question(question: str) -> str:
    """The grouping key of the question log: lower case, whitespace and typography folded."""
    return normalize_verbatim(question).casefold()


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _ts(moment: datetime) -> str:
    """ISO-8601 UTC with a fixed width, so stored timestamps compare correctly as text."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _parse_ts(value: str) -> datetime:
    return datetime.fromisoformat(value)


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


def _same_content(row: sqlite3.Row, entry: Entry) -> bool:
    return bool(row["content_hash"] == content_hash(canonical_json(entry)))


def _check_version(entry_id: str, expected: int | None, row: sqlite3.Row) -> None:
    if expected is not None and expected != row["version"]:
        raise VersionConflict(entry_id, expected, int(row["version"]))


async def _rollback_quietly(db: aiosqlite.Connection) -> None:
    with suppress(sqlite3.OperationalError):  # no transaction was active (BEGIN itself failed)
        await db.execute("ROLLBACK")


def _stored_entry(row: sqlite3.Row) -> StoredEntry:
    return StoredEntry(
        scope=_api_scope(row["scope"]),
        entry=Entry.model_validate_json(row["data"]),
        version=row["version"],
        deleted=bool(row["deleted"]),
        origin=row["origin"],
        updated_at=_parse_ts(row["updated_at"]),
        updated_by=row["updated_by"],
    )


def _stored_entries(rows: Iterable[sqlite3.Row]) -> list[StoredEntry]:
    """Rows as entries; a row whose data no longer parses is skipped with a warning naming it,
    so one damaged row cannot take the rest of the server (or the start-up) with it."""
    out: list[StoredEntry] = []
    for row in rows:
        try:
            out.append(_stored_entry(row))
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            log.warning(
                "skipping damaged entry %r of scope %s in the database: %s",
                row["id"],
                row["scope"],
                " ".join(str(exc).split())[:200],
            )
    return out


def _entry_version(row: sqlite3.Row) -> EntryVersion:
    data = row["data"]
    return EntryVersion(
        scope=_api_scope(row["scope"]),
        entry_id=row["id"],
        version=row["version"],
        action=row["action"],
        entry=None if data is None else Entry.model_validate_json(data),
        actor_id=row["actor_id"],
        at=_parse_ts(row["at"]),
        note=row["note"],
    )


def load_migrations() -> list[Migration]:
    """The packaged migrations, in order; a gap or a duplicate number is a packaging error."""
    found: list[Migration] = []
    for item in resources.files(_MIGRATIONS_PACKAGE).iterdir():
        match = _MIGRATION_NAME.match(item.name)
        if match and item.is_file():
            found.append(Migration(int(match.group(1)), match.group(2), item.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migrations must be numbered 1, 2, 3...; found {migration.version:04d}")
    return found


def split_sql(script: str) -> list[str]:
    """Split a migration script into statements (executescript would commit mid-transaction)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer.strip()[:80]!r}")
    return statements


_ENTRY_COLUMNS: Final = "scope, id, version, data, deleted, origin, updated_at, updated_by"
_VERSION_COLUMNS: Final = "scope, id, version, action, data, actor_id, at, note"


# --------------------------------------------------------------------------------------------
# The store.
# --------------------------------------------------------------------------------------------


class Store:
    """Async SQLite store. Open with `await Store.open(path)`; use as `async with`."""

    def __init__(
        self,
        db: aiosqlite.Connection,
        path: Path,
        *,
        read_only: bool,
        clock: Callable[[], datetime] = _utc_now,
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
    async def open(
        cls,
        path: str | os.PathLike[str],
        *,
        busy_timeout: float = 5.0,
        read_only: bool = False,
        clock: Callable[[], datetime] | None = None,
    ) -> Self:
        """Connect, configure and migrate. Falls back to read-only if the file cannot be written.

        `clock` (returning an aware UTC datetime) is for tests; it stamps every write. Any
        failure (a directory, a damaged or foreign file, a full disk, a lock held too long)
        raises `StoreUnavailable` naming the file and the cause.
        """
        db_path = Path(path)
        try:
            if await asyncio.to_thread(db_path.is_dir):
                raise StoreUnavailable(db_path, "it is a directory, not a database file")
            store = await cls._open(db_path, busy_timeout, read_only, clock or _utc_now)
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
    def unavailable(cls, path: str | os.PathLike[str], cause: str) -> Self:
        """A store that could not be opened: every operation raises `StoreUnavailable`."""
        store = cls.__new__(cls)
        Store.__init__(store, cast(aiosqlite.Connection, None), Path(path), read_only=True)
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

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def path(self) -> Path:
        return self._path

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

    # ---- migrations -----------------------------------------------------------------------

    async def _migrate(self) -> list[int]:
        """Apply every pending migration, each in its own transaction; returns what was applied.

        An up-to-date database is only read: starting never waits for another process's lock."""
        migrations = load_migrations()
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

    # ---- shared write steps (called inside `_writing`) ------------------------------------

    async def _fetch_entry_row(
        self, db: aiosqlite.Connection, scope: int, entry_id: str
    ) -> sqlite3.Row | None:
        return await _first(
            db,
            f"SELECT {_ENTRY_COLUMNS}, content_hash FROM entries WHERE scope = ? AND id = ?",
            (scope, entry_id),
        )

    async def _active_count(self, db: aiosqlite.Connection, scope: int) -> int:
        row = await _one(db, "SELECT COUNT(*) FROM entries WHERE scope = ? AND deleted = 0", (scope,))
        return int(row[0])

    async def _write_version(
        self,
        db: aiosqlite.Connection,
        scope: int,
        entry_id: str,
        prev: sqlite3.Row | None,
        entry: Entry | None,
        action: Action,
        actor_id: int | None,
        note: str | None = None,
    ) -> StoredEntry:
        """Write the next version of an entry: upsert its row and append its history row.

        `prev` is the current row (None for a new entry). `entry` None is a removal: the row
        keeps its last content and is flagged deleted; the history row has no data.
        """
        if entry is not None:
            data = canonical_json(entry)
        elif prev is not None:
            data = str(prev["data"])
        else:  # pragma: no cover - guarded by callers
            raise ValueError("only an existing entry can be removed")
        version = 1 if prev is None else int(prev["version"]) + 1
        deleted = entry is None
        origin: Origin = "file" if scope == BASE_SCOPE else "discord"
        at = _ts(self._clock())
        await db.execute(
            "INSERT INTO entries"
            " (scope, id, version, data, content_hash, deleted, origin, updated_at, updated_by)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (scope, id) DO UPDATE SET version = excluded.version, data = excluded.data,"
            " content_hash = excluded.content_hash, deleted = excluded.deleted, origin = excluded.origin,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            (scope, entry_id, version, data, content_hash(data), int(deleted), origin, at, actor_id),
        )
        await self._insert_version(
            db, (scope, entry_id, version, action, None if deleted else data, actor_id, at, note)
        )
        return StoredEntry(
            scope=_api_scope(scope),
            entry=entry if entry is not None else Entry.model_validate_json(data),
            version=version,
            deleted=deleted,
            origin=origin,
            updated_at=_parse_ts(at),
            updated_by=actor_id,
        )

    async def _insert_version(self, db: aiosqlite.Connection, values: tuple[Any, ...]) -> None:
        await db.execute(
            f"INSERT INTO entry_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", values
        )

    async def _check_limit(
        self, db: aiosqlite.Connection, scope: int, adding: int, max_entries: int | None
    ) -> None:
        """Raise LimitExceeded if the scope would hold more than `max_entries` live entries."""
        if max_entries is None:
            return
        if await self._active_count(db, scope) + adding > max_entries:
            raise LimitExceeded(
                f"This server can have at most {max_entries} {'entry' if max_entries == 1 else 'entries'}; "
                "remove some before adding more.",
                limit=max_entries,
            )

    # ---- the curated base -----------------------------------------------------------------

    async def seed_base(self, entries: list[Entry]) -> SeedReport:
        """Sync the curated files into scope 0 (the base), idempotently, in one transaction.

        New ids are added as version 1; changed content gets a new version; ids gone from the
        files are soft-deleted; removed ids that are back are restored (counted as added).
        """
        by_id: dict[str, Entry] = {}
        for entry in entries:
            if entry.id in by_id:
                raise ValueError(f"duplicate entry id in the curated base: {entry.id}")
            by_id[entry.id] = entry
        added = updated = removed = unchanged = 0
        async with self._writing() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_ENTRY_COLUMNS}, content_hash FROM entries WHERE scope = ?", (BASE_SCOPE,)
            )
            existing = {row["id"]: row for row in rows}
            for entry_id, entry in by_id.items():
                row = existing.get(entry_id)
                if row is not None and not row["deleted"] and _same_content(row, entry):
                    unchanged += 1
                    continue
                restored = row is not None and bool(row["deleted"])
                note = "restored: back in the knowledge files" if restored else None
                await self._write_version(db, BASE_SCOPE, entry_id, row, entry, "seed", None, note)
                if row is None or restored:
                    added += 1
                else:
                    updated += 1
            for entry_id, row in existing.items():
                if entry_id not in by_id and not row["deleted"]:
                    note = "no longer in the knowledge files"
                    await self._write_version(db, BASE_SCOPE, entry_id, row, None, "remove", None, note)
                    removed += 1
        report = SeedReport(added=added, updated=updated, removed=removed, unchanged=unchanged)
        log.info("Seeded the curated base: %s", report)
        return report

    # ---- reads ----------------------------------------------------------------------------

    async def active_entries(self, scope: Scope, *, include_removed: bool = False) -> list[StoredEntry]:
        """The live entries of exactly one scope (the base is not mixed into a guild's list);
        with `include_removed`, soft-removed ones too (for history and revert)."""
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE scope = ? AND (deleted = 0 OR ?) ORDER BY id",
                (_db_scope(scope), int(include_removed)),
            )
        return await run_heavy(_stored_entries, rows)

    async def entry_summaries(self, scope: Scope, *, include_removed: bool = False) -> list[EntrySummary]:
        """Id, phrasings and answer of each entry of one scope (SQLite extracts them)."""
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT id, deleted, updated_at, json_extract(data, '$.questions') AS questions,"
                " json_extract(data, '$.answer') AS answer FROM entries"
                " WHERE scope = ? AND (deleted = 0 OR ?) ORDER BY id",
                (_db_scope(scope), int(include_removed)),
            )
        return await run_heavy(_summaries, rows)

    async def all_active_entries(self) -> list[StoredEntry]:
        """Every live entry of every scope (the base first), to build the search index."""
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE deleted = 0 ORDER BY scope, id"
            )
        # Parsed in a worker thread: thousands of entries would hold the event loop for seconds.
        return await run_heavy(_stored_entries, rows)

    async def get_entry(
        self, scope: Scope, entry_id: str, *, include_deleted: bool = False
    ) -> StoredEntry | None:
        async with self._reading() as db:
            row = await self._fetch_entry_row(db, _db_scope(scope), entry_id)
        if row is None or (row["deleted"] and not include_deleted):
            return None
        return _stored_entry(row)

    async def count_entries(self, scope: Scope) -> int:
        async with self._reading() as db:
            return await self._active_count(db, _db_scope(scope))

    async def search_entry_ids(self, scope: Scope, text: str, limit: int = 25) -> list[str]:
        """Live entry ids of a scope containing `text` (case-insensitive); prefix matches first."""
        needle = text.strip().lower()
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                "SELECT id FROM entries WHERE scope = ? AND deleted = 0 AND instr(id, ?) > 0"
                " ORDER BY instr(id, ?) <> 1, id LIMIT ?",
                (_db_scope(scope), needle, needle, max(0, limit)),
            )
        return [r["id"] for r in rows]

    async def history(self, scope: Scope, entry_id: str) -> list[EntryVersion]:
        """Every version of an entry, oldest first; empty if the id never existed in the scope."""
        async with self._reading() as db:
            rows = await db.execute_fetchall(
                f"SELECT {_VERSION_COLUMNS} FROM entry_versions WHERE scope = ? AND id = ? ORDER BY version",
                (_db_scope(scope), entry_id),
            )
        return [_entry_version(r) for r in rows]

    # ---- curation (server scopes only) ----------------------------------------------------

    async def create_entry(
        self,
        scope: Scope,
        entry: Entry,
        actor_id: int,
        *,
        max_entries: int | None = None,
        action: Literal["create", "import"] = "create",
    ) -> StoredEntry:
        """Add a new entry as version 1. A removed id is not reused here: restore it with `revert`."""
        db_scope = _curation_scope(scope)
        async with self._writing() as db:
            row = await self._fetch_entry_row(db, db_scope, entry.id)
            if row is not None and row["deleted"]:
                raise EntryExists(
                    entry.id,
                    f"The id '{entry.id}' belonged to an entry that was removed. "
                    "Restore it from its history (revert), or choose another id.",
                )
            if row is not None:
                raise EntryExists(entry.id)
            await self._check_limit(db, db_scope, 1, max_entries)
            return await self._write_version(db, db_scope, entry.id, None, entry, action, actor_id)

    async def update_entry(
        self, scope: Scope, entry: Entry, actor_id: int, expected_version: int
    ) -> StoredEntry:
        """Replace an entry's content, if it is still at `expected_version`.

        An edit that changes nothing returns the current entry and writes no version.
        """
        db_scope = _curation_scope(scope)
        async with self._writing() as db:
            row = await self._live_row(db, db_scope, entry.id)
            _check_version(entry.id, expected_version, row)
            if _same_content(row, entry):
                return _stored_entry(row)
            return await self._write_version(db, db_scope, entry.id, row, entry, "edit", actor_id)

    async def remove_entry(
        self, scope: Scope, entry_id: str, actor_id: int, expected_version: int | None = None
    ) -> StoredEntry:
        """Soft-delete an entry (a new version with action 'remove'); returns it flagged deleted."""
        db_scope = _curation_scope(scope)
        async with self._writing() as db:
            row = await self._live_row(db, db_scope, entry_id)
            _check_version(entry_id, expected_version, row)
            return await self._write_version(db, db_scope, entry_id, row, None, "remove", actor_id)

    async def revert(
        self,
        scope: Scope,
        entry_id: str,
        version: int,
        actor_id: int,
        expected_version: int | None = None,
        *,
        max_entries: int | None = None,
    ) -> StoredEntry:
        """Make the content of an old version current, as a new version with action 'revert'.

        Reverting to a removal removes the entry; reverting a removed entry to an earlier
        content restores it. If the entry already is in that state, nothing is written.
        """
        db_scope = _curation_scope(scope)
        async with self._writing() as db:
            row = await self._fetch_entry_row(db, db_scope, entry_id)
            if row is None:
                raise EntryNotFound(entry_id)
            _check_version(entry_id, expected_version, row)
            target = await _first(
                db,
                "SELECT data FROM entry_versions WHERE scope = ? AND id = ? AND version = ?",
                (db_scope, entry_id, version),
            )
            if target is None:
                raise EntryNotFound(entry_id, f"Entry '{entry_id}' has no version {version}.")
            content = None if target["data"] is None else Entry.model_validate_json(target["data"])
            if content is None and row["deleted"]:
                return _stored_entry(row)  # already removed
            if content is not None and not row["deleted"] and _same_content(row, content):
                return _stored_entry(row)  # already this content
            if content is not None and row["deleted"]:
                await self._check_limit(db, db_scope, 1, max_entries)
            note = f"reverted to version {version}"
            return await self._write_version(db, db_scope, entry_id, row, content, "revert", actor_id, note)

    async def import_entries(
        self, scope: Scope, entries: Iterable[Entry], actor_id: int, *, max_entries: int | None = None
    ) -> tuple[int, int]:
        """Add or update many entries, all or nothing; returns (added, updated).

        New ids are added; live ids whose content differs get a new version; removed ids are
        restored with the imported content (counted as added). Unchanged entries write nothing.
        """
        db_scope = _curation_scope(scope)
        batch = list(entries)
        seen: set[str] = set()
        for entry in batch:
            if entry.id in seen:
                raise EntryExists(entry.id, f"The import lists the id '{entry.id}' more than once.")
            seen.add(entry.id)
        added = updated = 0
        async with self._writing() as db:
            for entry in batch:
                row = await self._fetch_entry_row(db, db_scope, entry.id)
                if row is not None and not row["deleted"] and _same_content(row, entry):
                    continue
                restored = row is not None and bool(row["deleted"])
                note = "restored by import" if restored else None
                await self._write_version(db, db_scope, entry.id, row, entry, "import", actor_id, note)
                if row is None or restored:
                    added += 1
                else:
                    updated += 1
            # Checked after the writes: the transaction rolls them all back if the batch is too big.
            await self._check_limit(db, db_scope, 0, max_entries)
        return added, updated

    async def _live_row(self, db: aiosqlite.Connection, scope: int, entry_id: str) -> sqlite3.Row:
        row = await self._fetch_entry_row(db, scope, entry_id)
        if row is None:
            raise EntryNotFound(entry_id)
        if row["deleted"]:
            raise EntryNotFound(
                entry_id, f"Entry '{entry_id}' was removed; restore it from its history (revert) first."
            )
        return row

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
                    _db_scope(scope),
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
                _db_scope(q.scope),
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
                (_db_scope(scope), _since(since), max(0, limit)),
            )
        return [
            QuestionStat(question=r["question"], count=r["n"], last_asked=_parse_ts(r["last_at"]))
            for r in rows
        ]

    async def guild_stats(self, scope: Scope, since: datetime | None = None, *, top: int = 5) -> GuildStats:
        """Questions asked/answered, the most used entries and feedback totals of one scope."""
        params = (_db_scope(scope), _since(since))
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


def _since(since: datetime | None) -> str:
    # The empty string sorts before every timestamp, so "no lower bound" needs no second query.
    return "" if since is None else _ts(since)


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


__all__ = [
    "BASE_SCOPE",
    "EntryExists",
    "EntryNotFound",
    "EntrySummary",
    "EntryVersion",
    "GuildStats",
    "LimitExceeded",
    "LoggedQuestion",
    "QuestionNotFound",
    "QuestionStat",
    "ReadOnlyScope",
    "SeedReport",
    "Store",
    "StoreBusy",
    "StoreError",
    "StoreFull",
    "StoreReadOnly",
    "StoreUnavailable",
    "StoredEntry",
    "VersionConflict",
    "canonical_json",
    "content_hash",
    "load_migrations",
]
