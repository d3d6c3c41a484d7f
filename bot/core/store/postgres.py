"""The PostgreSQL engine of the store, for several processes sharing one database.

One `PostgresStore` owns one asyncpg pool per process (`BOT_DB_POOL_SIZE` connections at
most) and, while a `change_feed` is open, one more connection of its own for `LISTEN`: a
pooled connection would be handed to queries and lose its subscriptions.

Writes of one scope are serialised across processes by the row lock of that scope's change
counter (`scope_versions`), taken first in every entry transaction: the counter is then bumped
in the same transaction as the change, and `pg_notify` tells every listening process which
scope changed once the transaction commits. Notifications are hints, not the truth: a process
that misses one (a dropped connection) catches up from the counters.

Migrations are applied all at once, in one transaction, under `pg_advisory_xact_lock`: ten
processes starting together apply each one once, and none starts on a half-migrated schema.

The password in `BOT_DATABASE` is handed to the driver and nowhere else: every message and
log line names the database by its redacted URL.

This module is part of the core: it never imports discord.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime
from typing import Any, Final, Self, cast
from urllib.parse import parse_qsl, unquote, urlsplit

import asyncpg

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
from bot.core.store.migrations import load_migrations
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
from bot.core.store.url import PostgresUrl

log = logging.getLogger(__name__)

#: The connections of one process's pool when the caller does not say.
DEFAULT_POOL_SIZE: Final = 4
#: The notification channel of entry changes; the payload is the database scope.
CHANNEL: Final = "meeting_bot_changes"
#: The advisory lock key of migrations ("mtgbot" in ASCII): one migrator at a time.
MIGRATION_LOCK: Final = 0x6D7467626F74
_APPLICATION: Final = "meeting-bot"

_ENTRY_COLUMNS: Final = "scope, id, version, data, content_hash, deleted, origin, updated_at, updated_by"
_VERSION_COLUMNS: Final = "scope, id, version, action, data, actor_id, at, note"

_BUSY: Final = (
    asyncpg.exceptions.LockNotAvailableError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.QueryCanceledError,
    asyncpg.exceptions.TooManyConnectionsError,
    TimeoutError,
)
_GONE: Final = (
    OSError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
)
#: What the driver raises (anything else is a bug, and propagates as it is).
_DRIVER_ERRORS: Final = (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError)


def _cause(url: PostgresUrl, exc: BaseException) -> str:
    """What is wrong, for the operator: the driver's words, with the password scrubbed in case
    a driver ever echoes it."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    password = _password(url)
    if password:
        text = text.replace(password, "***")
    if isinstance(
        exc,
        asyncpg.exceptions.InvalidPasswordError | asyncpg.exceptions.InvalidAuthorizationSpecificationError,
    ):
        return f"the server refused the login ({text}); check the user and password in BOT_DATABASE"
    if isinstance(exc, asyncpg.exceptions.InvalidCatalogNameError):
        return f"the database does not exist ({text}); create it first"
    if isinstance(exc, OSError | TimeoutError):
        return f"the server cannot be reached ({type(exc).__name__}: {text}); check the host and port"
    return f"{type(exc).__name__}: {text}"


def _password(url: PostgresUrl) -> str:
    parts = urlsplit(url.dsn())
    userinfo = parts.netloc.rsplit("@", 1)[0] if "@" in parts.netloc else ""
    if ":" in userinfo:
        return unquote(userinfo.split(":", 1)[1])
    return next((v for k, v in parse_qsl(parts.query) if k.lower() == "password"), "")


def _translate(url: PostgresUrl, exc: BaseException) -> StoreError:
    """Map a driver error to the store's polite errors (the one place that does this)."""
    if isinstance(exc, _BUSY):
        return StoreBusy()
    if isinstance(
        exc, asyncpg.exceptions.ReadOnlySQLTransactionError | asyncpg.exceptions.InsufficientPrivilegeError
    ):
        return StoreReadOnly()
    if isinstance(exc, asyncpg.exceptions.DiskFullError | asyncpg.exceptions.ProgramLimitExceededError):
        return StoreFull()
    if isinstance(exc, _GONE):
        return StoreUnavailable(url, _cause(url, exc))
    return StoreError()


def _entry_row(row: asyncpg.Record) -> EntryRow:
    return EntryRow(
        scope=row["scope"],
        id=row["id"],
        version=row["version"],
        data=row["data"],
        content_hash=row["content_hash"],
        deleted=row["deleted"],
        origin=row["origin"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def _stored(rows: Iterable[asyncpg.Record]) -> list[StoredEntry]:
    return stored_entries(_entry_row(r) for r in rows)


def _summaries(rows: Iterable[asyncpg.Record]) -> list[EntrySummary]:
    out: list[EntrySummary] = []
    for row in rows:
        updated_at = aware(row["updated_at"]).isoformat(timespec="microseconds")
        item = summary(row["id"], row["deleted"], updated_at, row["questions"], row["answer"])
        if item is not None:
            out.append(item)
    return out


# --------------------------------------------------------------------------------------------
# The write transaction: the primitives of the shared curation rules.
# --------------------------------------------------------------------------------------------


class _PostgresTx(WriteTx):
    def __init__(self, conn: asyncpg.Connection) -> None:
        super().__init__()
        self.conn = conn

    async def lock_scope(self, scope: int) -> None:
        # An upsert that changes nothing still locks the row: the writers of one scope queue
        # here, in every process, and each then reads what the one before it committed.
        await self.conn.execute(
            "INSERT INTO scope_versions (scope, version) VALUES ($1, 0)"
            " ON CONFLICT (scope) DO UPDATE SET version = scope_versions.version",
            scope,
        )

    async def entry_row(self, scope: int, entry_id: str) -> EntryRow | None:
        row = await self.conn.fetchrow(
            f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE scope = $1 AND id = $2", scope, entry_id
        )
        return None if row is None else _entry_row(row)

    async def scope_rows(self, scope: int) -> list[EntryRow]:
        rows = await self.conn.fetch(f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE scope = $1", scope)
        return [_entry_row(r) for r in rows]

    async def active_count(self, scope: int) -> int:
        count = await self.conn.fetchval(
            "SELECT COUNT(*) FROM entries WHERE scope = $1 AND NOT deleted", scope
        )
        return int(count)

    async def version_data(self, scope: int, entry_id: str, version: int) -> tuple[bool, str | None]:
        row = await self.conn.fetchrow(
            "SELECT data FROM entry_versions WHERE scope = $1 AND id = $2 AND version = $3",
            scope,
            entry_id,
            version,
        )
        return (False, None) if row is None else (True, row["data"])

    async def put_entry(self, row: EntryRow) -> None:
        await self.conn.execute(
            "INSERT INTO entries"
            " (scope, id, version, data, content_hash, deleted, origin, updated_at, updated_by)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            " ON CONFLICT (scope, id) DO UPDATE SET version = excluded.version, data = excluded.data,"
            " content_hash = excluded.content_hash, deleted = excluded.deleted, origin = excluded.origin,"
            " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            row.scope,
            row.id,
            row.version,
            row.data,
            row.content_hash,
            row.deleted,
            row.origin,
            aware(row.updated_at),
            row.updated_by,
        )

    async def insert_version(self, row: VersionRow) -> None:
        await self.conn.execute(
            f"INSERT INTO entry_versions ({_VERSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            row.scope,
            row.id,
            row.version,
            row.action,
            row.data,
            row.actor_id,
            aware(row.at),
            row.note,
        )

    async def publish(self) -> None:
        """Bump the counters of the changed scopes and queue their notifications (sent on commit)."""
        for scope in sorted(self.changed):
            await self.conn.execute(
                "INSERT INTO scope_versions (scope, version) VALUES ($1, 1)"
                " ON CONFLICT (scope) DO UPDATE SET version = scope_versions.version + 1",
                scope,
            )
            await self.conn.execute("SELECT pg_notify($1, $2)", CHANNEL, str(scope))


class _NotifyFeed(ChangeFeed):
    """`LISTEN` on a dedicated connection; reconnects when it is lost, and then answers
    "compare everything", since notifications sent meanwhile are gone."""

    def __init__(self, url: PostgresUrl, connect_timeout: float) -> None:
        self._url = url
        self._timeout = connect_timeout
        self._conn: asyncpg.Connection | None = None
        self._hints: set[Scope] = set()
        self._event = asyncio.Event()
        self._warned = False

    def _on_notify(self, conn: object, pid: int, channel: str, payload: str) -> None:
        try:
            self._hints.add(api_scope(int(payload)))
        except ValueError:
            return
        self._event.set()

    def _on_lost(self, conn: object) -> None:
        if conn is self._conn:
            self._conn = None
            self._event.set()

    async def _connect(self) -> None:
        conn = await asyncpg.connect(
            self._url.dsn(), timeout=self._timeout, server_settings={"application_name": _APPLICATION}
        )
        try:
            await conn.add_listener(CHANNEL, self._on_notify)
            conn.add_termination_listener(self._on_lost)
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    async def wait(self, timeout: float) -> set[Scope] | None:  # noqa: ASYNC109
        if self._conn is None or self._conn.is_closed():
            self._conn = None
            try:
                await self._connect()
            except _DRIVER_ERRORS as exc:
                if not self._warned:
                    self._warned = True
                    log.warning(
                        "change feed: cannot listen on %s (%s); retrying, and comparing "
                        "change counters meanwhile",
                        self._url,
                        _cause(self._url, exc),
                    )
                await asyncio.sleep(min(timeout, 1.0))
                return None
            if self._warned:
                log.info("change feed: listening on %s again", self._url)
            self._warned = False
            return None  # (re)connected: whatever was sent meanwhile is lost
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return set()
        self._event.clear()
        hints, self._hints = self._hints, set()
        return None if self._conn is None else hints

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), self._timeout)
            except (*_DRIVER_ERRORS, asyncio.CancelledError):
                conn.terminate()


# --------------------------------------------------------------------------------------------
# The store.
# --------------------------------------------------------------------------------------------


class PostgresStore(Store):
    """Async PostgreSQL store. Open with `await PostgresStore.open(url)` (or `Store.open`)."""

    def __init__(
        self,
        pool: asyncpg.Pool | None,
        url: PostgresUrl,
        *,
        read_only: bool,
        busy_timeout: float = 5.0,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._pool = pool
        self._url = url
        self._read_only = read_only
        self._busy_timeout = busy_timeout
        self._clock = clock
        #: Why the database could not be opened (None: it is open).
        self._unavailable: str | None = None

    # ---- opening and closing ---------------------------------------------------------------

    @classmethod
    async def open(  # type: ignore[override]
        cls,
        url: PostgresUrl,
        *,
        busy_timeout: float = 5.0,
        read_only: bool = False,
        clock: Callable[[], datetime] | None = None,
        pool_size: int | None = None,
    ) -> Self:
        """Create the pool and apply pending migrations; `StoreUnavailable` says why it cannot.

        `busy_timeout` bounds how long a statement waits for a lock (`lock_timeout`) and a
        query for a free pooled connection."""
        settings = {
            "application_name": _APPLICATION,
            "lock_timeout": str(max(1, int(busy_timeout * 1000))),
        }
        if read_only:
            settings["default_transaction_read_only"] = "on"
        try:
            pool = await asyncpg.create_pool(
                url.dsn(),
                min_size=1,
                max_size=max(1, pool_size or DEFAULT_POOL_SIZE),
                timeout=max(busy_timeout, 5.0),
                server_settings=settings,
            )
        except _DRIVER_ERRORS as exc:
            raise StoreUnavailable(url, _cause(url, exc)) from None
        store = cls(pool, url, read_only=read_only, busy_timeout=busy_timeout, clock=clock or utc_now)
        try:
            await store._start()
        except BaseException:
            await store.close()
            raise
        return store

    async def _start(self) -> None:
        try:
            async with self._acquire() as conn:
                standby = bool(await conn.fetchval("SELECT pg_is_in_recovery()"))
            if standby and not self._read_only:
                log.warning("Database %s is a standby (read replica); opening it read-only", self._url)
                self._read_only = True
            if not self._read_only:
                await self._migrate()
            elif await self.schema_version() == 0:
                raise StoreUnavailable(
                    self._url, "it has none of this bot's tables, and it is read-only so they cannot be made"
                )
        except StoreUnavailable:
            raise
        except StoreError as exc:
            raise StoreUnavailable(self._url, _cause(self._url, exc.__cause__ or exc)) from None

    @classmethod
    def unavailable(cls, url: object, cause: str) -> Self:
        """A store that could not be opened: every operation raises `StoreUnavailable`."""
        store = cls(None, url if isinstance(url, PostgresUrl) else PostgresUrl(str(url)), read_only=True)
        store._unavailable = cause
        return store

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), 10)
        except (*_DRIVER_ERRORS, asyncio.CancelledError):
            pool.terminate()

    @property
    def available(self) -> bool:
        return self._unavailable is None

    @property
    def read_only(self) -> bool:
        return self._read_only

    @property
    def location(self) -> str:
        return str(self._url)

    @property
    def url(self) -> PostgresUrl:
        return self._url

    # ---- connections and transactions -----------------------------------------------------

    def _live_pool(self) -> asyncpg.Pool:
        if self._unavailable is not None:
            raise StoreUnavailable(self._url, self._unavailable)
        if self._pool is None:
            raise StoreError("The knowledge base is closed.")
        return self._pool

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except _DRIVER_ERRORS as exc:
            err = _translate(self._url, exc)
            # INFO: the caller decides what it means and warns in its own words.
            log.info("PostgreSQL error mapped to %s: %s", type(err).__name__, _cause(self._url, exc))
            raise err from exc

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[asyncpg.Connection]:
        pool = self._live_pool()
        with self._errors():
            async with pool.acquire(timeout=self._busy_timeout) as conn:
                yield conn

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[_PostgresTx]:
        if self._unavailable is not None:
            raise StoreUnavailable(self._url, self._unavailable)
        if self._read_only:
            raise StoreReadOnly()
        async with self._acquire() as conn, conn.transaction():
            tx = _PostgresTx(conn)
            yield tx
            await tx.publish()

    # ---- migrations -----------------------------------------------------------------------

    async def _migrate(self) -> list[int]:
        """Apply every pending migration in one transaction under the migration lock;
        returns what this process applied (nothing when another process got there first)."""
        migrations = load_migrations("postgresql")
        if await self.schema_version() >= migrations[-1].version:
            return []  # up to date: starting never waits for another process's lock
        applied: list[int] = []
        async with self._acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for migration in migrations:
                if migration.version in done:
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    migration.version,
                    migration.name,
                    aware(self._clock()),
                )
                applied.append(migration.version)
        for version in applied:
            log.info("Applied migration %04d to %s", version, self._url)
        return applied

    async def schema_version(self) -> int:
        async with self._acquire() as conn:
            if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
                return 0
            return int(await conn.fetchval("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    async def applied_migrations(self) -> list[tuple[int, str, datetime]]:
        async with self._acquire() as conn:
            rows = await conn.fetch(
                "SELECT version, name, applied_at FROM schema_migrations ORDER BY version"
            )
        return [(r["version"], r["name"], r["applied_at"]) for r in rows]

    # ---- reads ----------------------------------------------------------------------------

    async def active_entries(self, scope: Scope, *, include_removed: bool = False) -> list[StoredEntry]:
        async with self._acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE scope = $1 AND (NOT deleted OR $2) ORDER BY id",
                db_scope(scope),
                include_removed,
            )
        return await run_heavy(_stored, rows)

    async def entry_summaries(self, scope: Scope, *, include_removed: bool = False) -> list[EntrySummary]:
        async with self._acquire() as conn:
            rows = await conn.fetch(
                "SELECT id, deleted, updated_at, questions_json AS questions, answer_text AS answer"
                " FROM entries"
                " WHERE scope = $1 AND (NOT deleted OR $2) ORDER BY id",
                db_scope(scope),
                include_removed,
            )
        return await run_heavy(_summaries, rows)

    async def all_active_entries(self) -> list[StoredEntry]:
        async with self._acquire() as conn:
            rows = await conn.fetch(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE NOT deleted ORDER BY scope, id"
            )
        # Parsed in a worker thread: thousands of entries would hold the event loop for seconds.
        return await run_heavy(_stored, rows)

    async def get_entry(
        self, scope: Scope, entry_id: str, *, include_deleted: bool = False
    ) -> StoredEntry | None:
        async with self._acquire() as conn:
            row = await conn.fetchrow(
                f"SELECT {_ENTRY_COLUMNS} FROM entries WHERE scope = $1 AND id = $2",
                db_scope(scope),
                entry_id,
            )
        if row is None or (row["deleted"] and not include_deleted):
            return None
        return _entry_row(row).stored()

    async def count_entries(self, scope: Scope) -> int:
        async with self._acquire() as conn:
            count = await conn.fetchval(
                "SELECT COUNT(*) FROM entries WHERE scope = $1 AND NOT deleted", db_scope(scope)
            )
        return int(count)

    async def search_entry_ids(self, scope: Scope, text: str, limit: int = 25) -> list[str]:
        needle = text.strip().lower()
        async with self._acquire() as conn:
            rows = await conn.fetch(
                "SELECT id FROM entries WHERE scope = $1 AND NOT deleted AND strpos(id, $2) > 0"
                " ORDER BY strpos(id, $2) <> 1, id LIMIT $3",
                db_scope(scope),
                needle,
                max(0, limit),
            )
        return [r["id"] for r in rows]

    async def history(self, scope: Scope, entry_id: str) -> list[EntryVersion]:
        async with self._acquire() as conn:
            where = "scope = $1 AND id = $2 ORDER BY version"
            sql = f"SELECT {_VERSION_COLUMNS} FROM entry_versions WHERE {where}"
            rows = await conn.fetch(sql, db_scope(scope), entry_id)
        return [
            VersionRow(
                r["scope"], r["id"], r["version"], r["action"], r["data"], r["actor_id"], r["at"], r["note"]
            ).entry_version()
            for r in rows
        ]

    # ---- change counters ------------------------------------------------------------------

    async def scope_versions(self, scopes: Iterable[Scope] | None = None) -> dict[Scope, int]:
        async with self._acquire() as conn:
            if scopes is None:
                rows = await conn.fetch("SELECT scope, version FROM scope_versions")
            else:
                wanted = [db_scope(s) for s in scopes]
                rows = await conn.fetch(
                    "SELECT scope, version FROM scope_versions WHERE scope = ANY($1::bigint[])", wanted
                )
        return {api_scope(r["scope"]): int(r["version"]) for r in rows}

    def change_feed(self, poll_interval: float) -> ChangeFeed:
        self._live_pool()  # raises if unavailable or closed
        return _NotifyFeed(self._url, max(self._busy_timeout, 5.0))

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
        async with self._transaction() as tx:
            question_id = await tx.conn.fetchval(
                "INSERT INTO question_log"
                " (scope, channel_id, user_id, question, question_norm, answered, entry_id, confidence, at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                db_scope(scope),
                channel_id,
                user_id,
                question,
                normalize_logged_question(question),
                answered,
                entry_id,
                float(confidence),
                aware(self._clock()),
            )
        return int(question_id)

    async def log_questions(self, questions: Sequence[LoggedQuestion]) -> int:
        if not questions:
            return 0
        columns: list[list[Any]] = [[] for _ in range(10)]
        for q in questions:
            values = (
                q.id,
                db_scope(q.scope),
                q.channel_id,
                q.user_id,
                q.question,
                normalize_logged_question(q.question),
                q.answered,
                q.entry_id,
                float(q.confidence),
                aware(q.at),
            )
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        async with self._transaction() as tx:
            status = await tx.conn.execute(
                "INSERT INTO question_log (id, scope, channel_id, user_id, question, question_norm,"
                " answered, entry_id, confidence, at)"
                " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::text[],"
                " $6::text[], $7::boolean[], $8::text[], $9::float8[], $10::timestamptz[])"
                " ON CONFLICT (id) DO NOTHING",
                *columns,
            )
        return int(str(status).rsplit(" ", 1)[-1])  # "INSERT 0 <rows>"

    async def record_feedback(self, question_id: int, user_id: int, helpful: bool) -> None:
        async with self._transaction() as tx:
            known = await tx.conn.fetchval("SELECT 1 FROM question_log WHERE id = $1", question_id)
            if known is None:
                raise QuestionNotFound(question_id)
            await tx.conn.execute(
                "INSERT INTO feedback (question_id, user_id, helpful, at) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (question_id, user_id)"
                " DO UPDATE SET helpful = excluded.helpful, at = excluded.at",
                question_id,
                user_id,
                helpful,
                aware(self._clock()),
            )

    async def feedback_counts(self, question_id: int) -> tuple[int, int]:
        async with self._acquire() as conn:
            row = await conn.fetchrow(
                "SELECT COUNT(*) FILTER (WHERE helpful), COUNT(*) FILTER (WHERE NOT helpful)"
                " FROM feedback WHERE question_id = $1",
                question_id,
            )
        assert row is not None  # an aggregate always returns a row
        return int(row[0]), int(row[1])

    async def unanswered_questions(
        self, scope: Scope, since: datetime | None = None, limit: int = 50
    ) -> list[QuestionStat]:
        async with self._acquire() as conn:
            # The most recent phrasing of each group stands for it, as SQLite's bare column does.
            rows = await conn.fetch(
                "SELECT question, n, last_at FROM ("
                " SELECT question, question_norm, at AS last_at,"
                " COUNT(*) OVER (PARTITION BY question_norm) AS n,"
                " ROW_NUMBER() OVER (PARTITION BY question_norm ORDER BY at DESC, id DESC) AS rn"
                " FROM question_log"
                " WHERE scope = $1 AND (NOT answered OR entry_id IS NULL)"
                " AND ($2::timestamptz IS NULL OR at >= $2)"
                ") AS grouped WHERE rn = 1 ORDER BY n DESC, last_at DESC, question_norm LIMIT $3",
                db_scope(scope),
                None if since is None else aware(since),
                max(0, limit),
            )
        return [QuestionStat(question=r["question"], count=r["n"], last_asked=r["last_at"]) for r in rows]

    async def guild_stats(self, scope: Scope, since: datetime | None = None, *, top: int = 5) -> GuildStats:
        params = (db_scope(scope), None if since is None else aware(since))
        where = "scope = $1 AND ($2::timestamptz IS NULL OR at >= $2)"
        async with self._acquire() as conn:
            totals = await conn.fetchrow(
                f"SELECT COUNT(*), COUNT(*) FILTER (WHERE answered) FROM question_log WHERE {where}", *params
            )
            top_rows = await conn.fetch(
                f"SELECT entry_id, COUNT(*) AS n FROM question_log WHERE {where}"
                " AND answered AND entry_id IS NOT NULL"
                " GROUP BY entry_id ORDER BY n DESC, entry_id LIMIT $3",
                *params,
                max(0, top),
            )
            votes = await conn.fetchrow(
                "SELECT COUNT(*) FILTER (WHERE f.helpful), COUNT(*) FILTER (WHERE NOT f.helpful)"
                " FROM feedback AS f JOIN question_log AS q ON q.id = f.question_id"
                " WHERE q.scope = $1 AND ($2::timestamptz IS NULL OR q.at >= $2)",
                *params,
            )
        assert totals is not None and votes is not None  # aggregates always return a row
        return GuildStats(
            asked=int(totals[0]),
            answered=int(totals[1]),
            top_entries=[(r["entry_id"], int(r["n"])) for r in top_rows],
            helpful=int(votes[0]),
            not_helpful=int(votes[1]),
        )

    # ---- server settings ------------------------------------------------------------------

    async def get_moderator_role(self, guild_id: int) -> int | None:
        async with self._acquire() as conn:
            value = await conn.fetchval(
                "SELECT moderator_role_id FROM guild_config WHERE guild_id = $1", guild_id
            )
        return cast(int | None, value)

    async def set_moderator_role(self, guild_id: int, role_id: int | None, actor_id: int) -> None:
        async with self._transaction() as tx:
            await tx.conn.execute(
                "INSERT INTO guild_config (guild_id, moderator_role_id, updated_at, updated_by)"
                " VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (guild_id) DO UPDATE SET moderator_role_id = excluded.moderator_role_id,"
                " updated_at = excluded.updated_at, updated_by = excluded.updated_by",
                guild_id,
                role_id,
                aware(self._clock()),
                actor_id,
            )
