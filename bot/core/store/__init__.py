"""The store: entries with full history, the question log, feedback, server settings and
per-scope change counters, on SQLite (the default) or PostgreSQL.

`Store.open(database)` picks the engine from `database`: a file path opens SQLite, a
`postgresql://` URL opens PostgreSQL. Everything a caller needs is importable from here.

This package is part of the core: it never imports discord.
"""

from bot.core.store.base import ChangeFeed, Store, check_version, require_live
from bot.core.store.common import (
    BASE_SCOPE,
    canonical_json,
    content_hash,
    curation_scope,
    normalize_logged_question,
)
from bot.core.store.errors import (
    EntryExists,
    EntryNotFound,
    LimitExceeded,
    QuestionNotFound,
    ReadOnlyScope,
    StoreBusy,
    StoreError,
    StoreFull,
    StoreReadOnly,
    StoreUnavailable,
    VersionConflict,
)
from bot.core.store.migrations import load_migrations
from bot.core.store.models import (
    EntrySummary,
    EntryVersion,
    GuildStats,
    LoggedQuestion,
    Migration,
    QuestionStat,
    SeedReport,
    StoredEntry,
)
from bot.core.store.url import PostgresUrl, is_postgres_url

__all__ = [
    "BASE_SCOPE",
    "ChangeFeed",
    "EntryExists",
    "EntryNotFound",
    "EntrySummary",
    "EntryVersion",
    "GuildStats",
    "LimitExceeded",
    "LoggedQuestion",
    "Migration",
    "PostgresUrl",
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
    "check_version",
    "content_hash",
    "curation_scope",
    "is_postgres_url",
    "load_migrations",
    "normalize_logged_question",
    "require_live",
]
