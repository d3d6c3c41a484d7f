"""The store interface, and the curation rules both engines share.

`Store` is what the rest of the bot uses: entries with full history, the question log,
feedback, server settings and per-scope change counters. Two engines implement it:
`SQLiteStore` (aiosqlite, the embedded default) and `PostgresStore` (asyncpg, for many
processes). The rules of a write (what is a conflict, what counts against a limit, what an
import or a revert does) are written once here, against the few primitives of a `WriteTx`;
an engine supplies those primitives, its reads, and its transactions.

Scopes: `None` is the curated global base (scope 0 in the database); an int is a Discord
server (guild) id. The base is written only by `seed_base`; the curation API refuses it with
`ReadOnlyScope`.

This module is part of the core: it never imports discord.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol, Self, TypeVar

from bot.core.models import Entry, Scope
from bot.core.store.common import BASE_SCOPE, api_scope, canonical_json, content_hash, curation_scope
from bot.core.store.errors import EntryExists, EntryNotFound, LimitExceeded, VersionConflict
from bot.core.store.models import (
    Action,
    EntryRow,
    EntrySummary,
    EntryVersion,
    GuildStats,
    LoggedQuestion,
    Origin,
    QuestionStat,
    SeedReport,
    StoredEntry,
    VersionRow,
)
from bot.core.wording import plural

log = logging.getLogger(__name__)


class WriteTx(abc.ABC):
    """One open write transaction of an engine: the primitives the shared rules need.

    Every entry change is reported with `touched`; the engine bumps those scopes' change
    counters (and tells other processes) in the same transaction, just before it commits."""

    def __init__(self) -> None:
        self.changed: set[int] = set()

    def touched(self, scope: int) -> None:
        self.changed.add(scope)

    @abc.abstractmethod
    async def lock_scope(self, scope: int) -> None:
        """Serialise the writers of one scope (across processes) until the transaction ends."""

    @abc.abstractmethod
    async def entry_row(self, scope: int, entry_id: str) -> EntryRow | None: ...

    @abc.abstractmethod
    async def scope_rows(self, scope: int) -> list[EntryRow]:
        """Every row of a scope, removed ones included."""

    @abc.abstractmethod
    async def active_count(self, scope: int) -> int: ...

    @abc.abstractmethod
    async def version_data(self, scope: int, entry_id: str, version: int) -> tuple[bool, str | None]:
        """(whether that version exists, its content: None for a removal)."""

    @abc.abstractmethod
    async def put_entry(self, row: EntryRow) -> None:
        """Insert or replace the current row of an entry."""

    @abc.abstractmethod
    async def insert_version(self, row: VersionRow) -> None: ...

    @abc.abstractmethod
    async def publish(self) -> None:
        """Bump the change counters of `changed` (and tell other processes); before COMMIT."""


class ChangeFeed(abc.ABC):
    """Hints that another process (or this one) changed entries: `wait` returns the scopes
    named by a hint, `None` when everything should be compared (a reconnect, or an engine
    that cannot tell which scope changed), or an empty set on timeout."""

    @abc.abstractmethod
    async def wait(self, timeout: float) -> set[Scope] | None:  # noqa: ASYNC109
        ...

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class Store(abc.ABC):
    """The store interface. Open one with `await Store.open(database)`, where `database` is
    an SQLite file path or a `postgresql://` URL; use it as `async with`."""

    _clock: Callable[[], datetime]

    # ---- opening and closing ---------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        database: object,
        *,
        busy_timeout: float = 5.0,
        read_only: bool = False,
        clock: Callable[[], datetime] | None = None,
        pool_size: int | None = None,
    ) -> Store:
        """Connect, configure and migrate the engine `database` names (see `open_store`)."""
        from bot.core.store.opening import open_store

        return await open_store(
            database, busy_timeout=busy_timeout, read_only=read_only, clock=clock, pool_size=pool_size
        )

    @classmethod
    def unavailable(cls, database: object, cause: str) -> Store:
        """A store that could not be opened: every operation raises `StoreUnavailable`."""
        from bot.core.store.opening import unavailable_store

        return unavailable_store(database, cause)

    @abc.abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    @abc.abstractmethod
    def available(self) -> bool:
        """False when the database could not be opened (see `unavailable`)."""

    @property
    @abc.abstractmethod
    def read_only(self) -> bool: ...

    @property
    @abc.abstractmethod
    def location(self) -> str:
        """The database for the operator's log: a file path, or the server URL without password."""

    @property
    def path(self) -> Path | str:
        """Kept for callers that log it: the SQLite file, or the redacted server URL."""
        return self.location

    # ---- the engine's transactions ---------------------------------------------------------

    @abc.abstractmethod
    def _transaction(self) -> AbstractAsyncContextManager[WriteTx]:
        """One write transaction: committed on success, rolled back on any error."""

    @asynccontextmanager
    async def _entry_write(self, scope: int) -> AsyncIterator[WriteTx]:
        async with self._transaction() as tx:
            await tx.lock_scope(scope)
            yield tx

    # ---- migrations -----------------------------------------------------------------------

    @abc.abstractmethod
    async def schema_version(self) -> int:
        """The highest applied migration (0 for an empty database)."""

    @abc.abstractmethod
    async def applied_migrations(self) -> list[tuple[int, str, datetime]]: ...

    # ---- shared write steps ---------------------------------------------------------------

    async def _write_version(
        self,
        tx: WriteTx,
        scope: int,
        entry_id: str,
        prev: EntryRow | None,
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
            data = prev.data
        else:  # pragma: no cover - guarded by callers
            raise ValueError("only an existing entry can be removed")
        version = 1 if prev is None else prev.version + 1
        deleted = entry is None
        origin: Origin = "file" if scope == BASE_SCOPE else "discord"
        at = self._clock()
        row = EntryRow(scope, entry_id, version, data, content_hash(data), deleted, origin, at, actor_id)
        await tx.put_entry(row)
        await self._insert_version(
            tx, VersionRow(scope, entry_id, version, action, None if deleted else data, actor_id, at, note)
        )
        tx.touched(scope)
        return StoredEntry(
            scope=api_scope(scope),
            entry=entry if entry is not None else Entry.model_validate_json(data),
            version=version,
            deleted=deleted,
            origin=origin,
            updated_at=at,
            updated_by=actor_id,
        )

    async def _insert_version(self, tx: WriteTx, row: VersionRow) -> None:
        await tx.insert_version(row)

    @staticmethod
    async def _check_limit(tx: WriteTx, scope: int, adding: int, max_entries: int | None) -> None:
        """Raise LimitExceeded if the scope would hold more than `max_entries` live entries."""
        if max_entries is None:
            return
        if await tx.active_count(scope) + adding > max_entries:
            raise LimitExceeded(
                f"This server can have at most {plural(max_entries, 'entry')}; "
                "remove some before adding more.",
                limit=max_entries,
            )

    @staticmethod
    async def _live_row(tx: WriteTx, scope: int, entry_id: str, expected_version: int | None) -> EntryRow:
        """The current row of an entry that must still exist, at the version the caller saw."""
        return require_live(entry_id, await tx.entry_row(scope, entry_id), expected_version)

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
        async with self._entry_write(BASE_SCOPE) as tx:
            existing = {row.id: row for row in await tx.scope_rows(BASE_SCOPE)}
            for entry_id, entry in by_id.items():
                row = existing.get(entry_id)
                if row is not None and not row.deleted and row.same_content(entry):
                    unchanged += 1
                    continue
                restored = row is not None and row.deleted
                note = "restored: back in the knowledge files" if restored else None
                await self._write_version(tx, BASE_SCOPE, entry_id, row, entry, "seed", None, note)
                if row is None or restored:
                    added += 1
                else:
                    updated += 1
            for entry_id, row in existing.items():
                if entry_id not in by_id and not row.deleted:
                    note = "no longer in the knowledge files"
                    await self._write_version(tx, BASE_SCOPE, entry_id, row, None, "remove", None, note)
                    removed += 1
        report = SeedReport(added=added, updated=updated, removed=removed, unchanged=unchanged)
        log.info("Seeded the curated base: %s", report)
        return report

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
        scope_id = curation_scope(scope)
        async with self._entry_write(scope_id) as tx:
            row = await tx.entry_row(scope_id, entry.id)
            if row is not None and row.deleted:
                raise EntryExists(
                    entry.id,
                    f"The id '{entry.id}' belonged to an entry that was removed. "
                    "Restore it from its history (revert), or choose another id.",
                )
            if row is not None:
                raise EntryExists(entry.id)
            await self._check_limit(tx, scope_id, 1, max_entries)
            return await self._write_version(tx, scope_id, entry.id, None, entry, action, actor_id)

    async def update_entry(
        self, scope: Scope, entry: Entry, actor_id: int, expected_version: int
    ) -> StoredEntry:
        """Replace an entry's content, if it is still at `expected_version`.

        An edit that changes nothing returns the current entry and writes no version.
        """
        scope_id = curation_scope(scope)
        async with self._entry_write(scope_id) as tx:
            row = await self._live_row(tx, scope_id, entry.id, expected_version)
            if row.same_content(entry):
                return row.stored()
            return await self._write_version(tx, scope_id, entry.id, row, entry, "edit", actor_id)

    async def remove_entry(
        self, scope: Scope, entry_id: str, actor_id: int, expected_version: int | None = None
    ) -> StoredEntry:
        """Soft-delete an entry (a new version with action 'remove'); returns it flagged deleted."""
        scope_id = curation_scope(scope)
        async with self._entry_write(scope_id) as tx:
            row = await self._live_row(tx, scope_id, entry_id, expected_version)
            return await self._write_version(tx, scope_id, entry_id, row, None, "remove", actor_id)

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
        scope_id = curation_scope(scope)
        async with self._entry_write(scope_id) as tx:
            row = await tx.entry_row(scope_id, entry_id)
            if row is None:
                raise EntryNotFound(entry_id)
            check_version(entry_id, expected_version, row.version)
            found, data = await tx.version_data(scope_id, entry_id, version)
            if not found:
                raise EntryNotFound(entry_id, f"Entry '{entry_id}' has no version {version}.")
            content = None if data is None else Entry.model_validate_json(data)
            if content is None and row.deleted:
                return row.stored()  # already removed
            if content is not None and not row.deleted and row.same_content(content):
                return row.stored()  # already this content
            if content is not None and row.deleted:
                await self._check_limit(tx, scope_id, 1, max_entries)
            note = f"reverted to version {version}"
            return await self._write_version(tx, scope_id, entry_id, row, content, "revert", actor_id, note)

    async def import_entries(
        self, scope: Scope, entries: Iterable[Entry], actor_id: int, *, max_entries: int | None = None
    ) -> tuple[int, int]:
        """Add or update many entries, all or nothing; returns (added, updated).

        New ids are added; live ids whose content differs get a new version; removed ids are
        restored with the imported content (counted as added). Unchanged entries write nothing.
        """
        scope_id = curation_scope(scope)
        batch = list(entries)
        seen: set[str] = set()
        for entry in batch:
            if entry.id in seen:
                raise EntryExists(entry.id, f"The import lists the id '{entry.id}' more than once.")
            seen.add(entry.id)
        added = updated = 0
        async with self._entry_write(scope_id) as tx:
            for entry in batch:
                row = await tx.entry_row(scope_id, entry.id)
                if row is not None and not row.deleted and row.same_content(entry):
                    continue
                restored = row is not None and row.deleted
                note = "restored by import" if restored else None
                await self._write_version(tx, scope_id, entry.id, row, entry, "import", actor_id, note)
                if row is None or restored:
                    added += 1
                else:
                    updated += 1
            # Checked after the writes: the transaction rolls them all back if the batch is too big.
            await self._check_limit(tx, scope_id, 0, max_entries)
        return added, updated

    # ---- reads (each engine's SQL) --------------------------------------------------------

    @abc.abstractmethod
    async def active_entries(self, scope: Scope, *, include_removed: bool = False) -> list[StoredEntry]:
        """The live entries of exactly one scope (the base is not mixed into a guild's list);
        with `include_removed`, soft-removed ones too (for history and revert)."""

    @abc.abstractmethod
    async def entry_summaries(self, scope: Scope, *, include_removed: bool = False) -> list[EntrySummary]:
        """Id, phrasings and answer of each entry of one scope (the database extracts them)."""

    @abc.abstractmethod
    async def all_active_entries(self) -> list[StoredEntry]:
        """Every live entry of every scope (the base first), to build the search index."""

    @abc.abstractmethod
    async def get_entry(
        self, scope: Scope, entry_id: str, *, include_deleted: bool = False
    ) -> StoredEntry | None: ...

    @abc.abstractmethod
    async def count_entries(self, scope: Scope) -> int: ...

    @abc.abstractmethod
    async def search_entry_ids(self, scope: Scope, text: str, limit: int = 25) -> list[str]:
        """Live entry ids of a scope containing `text` (case-insensitive); prefix matches first."""

    @abc.abstractmethod
    async def history(self, scope: Scope, entry_id: str) -> list[EntryVersion]:
        """Every version of an entry, oldest first; empty if the id never existed in the scope."""

    # ---- change counters ------------------------------------------------------------------

    @abc.abstractmethod
    async def scope_versions(self, scopes: Iterable[Scope] | None = None) -> dict[Scope, int]:
        """The change counter of each scope that ever had an entry (or of `scopes` only)."""

    @abc.abstractmethod
    def change_feed(self, poll_interval: float) -> ChangeFeed:
        """Hints of committed changes, from any process (see `ChangeFeed`)."""

    # ---- question log and feedback --------------------------------------------------------

    @abc.abstractmethod
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

    @abc.abstractmethod
    async def log_questions(self, questions: Sequence[LoggedQuestion]) -> int:
        """Record many asked questions, with the ids they were given, in one transaction;
        returns how many were written (an id already taken is skipped, never overwritten)."""

    @abc.abstractmethod
    async def record_feedback(self, question_id: int, user_id: int, helpful: bool) -> None:
        """One vote per user per answer: a second vote by the same user replaces the first."""

    @abc.abstractmethod
    async def feedback_counts(self, question_id: int) -> tuple[int, int]:
        """(helpful, not helpful) votes on one answer."""

    @abc.abstractmethod
    async def unanswered_questions(
        self, scope: Scope, since: datetime | None = None, limit: int = 50
    ) -> list[QuestionStat]:
        """Questions no entry answered (declined, or answered only from the article text: no
        entry id), grouped by lower-cased, whitespace-folded text; most asked first."""

    @abc.abstractmethod
    async def guild_stats(self, scope: Scope, since: datetime | None = None, *, top: int = 5) -> GuildStats:
        """Questions asked/answered, the most used entries and feedback totals of one scope."""

    # ---- server settings ------------------------------------------------------------------

    @abc.abstractmethod
    async def get_moderator_role(self, guild_id: int) -> int | None: ...

    @abc.abstractmethod
    async def set_moderator_role(self, guild_id: int, role_id: int | None, actor_id: int) -> None:
        """Set (or clear, with None) the role whose members may curate this server's entries."""


class _Versioned(Protocol):
    @property
    def deleted(self) -> bool: ...

    @property
    def version(self) -> int: ...


_Current = TypeVar("_Current", bound=_Versioned)


def require_live(entry_id: str, current: _Current | None, expected_version: int | None) -> _Current:
    """The "entry must still exist" rule and the version pre-check, written once: a missing or
    removed entry is `EntryNotFound`; one changed since the caller read it, `VersionConflict`."""
    if current is None:
        raise EntryNotFound(entry_id)
    if current.deleted:
        raise EntryNotFound(
            entry_id, f"Entry '{entry_id}' was removed; restore it from its history (revert) first."
        )
    check_version(entry_id, expected_version, current.version)
    return current


def check_version(entry_id: str, expected: int | None, actual: int) -> None:
    """The optimistic concurrency check: the caller saw `expected`, the entry is at `actual`."""
    if expected is not None and expected != actual:
        raise VersionConflict(entry_id, expected, actual)
