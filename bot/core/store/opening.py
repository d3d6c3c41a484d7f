"""Choosing the engine from `BOT_DATABASE`: a file path is SQLite, a `postgresql://` URL is
PostgreSQL (whose driver is imported only then)."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from bot.core.store.base import Store
from bot.core.store.url import PostgresUrl, is_postgres_url


async def open_store(
    database: object,
    *,
    busy_timeout: float = 5.0,
    read_only: bool = False,
    clock: Callable[[], datetime] | None = None,
    pool_size: int | None = None,
) -> Store:
    """Open the store `database` names; raises `StoreUnavailable` saying why it cannot."""
    if is_postgres_url(database):
        from bot.core.store.postgres import PostgresStore

        url = database if isinstance(database, PostgresUrl) else PostgresUrl(str(database))
        return await PostgresStore.open(
            url, busy_timeout=busy_timeout, read_only=read_only, clock=clock, pool_size=pool_size
        )
    from bot.core.store.sqlite import SQLiteStore

    return await SQLiteStore.open(
        _path(database), busy_timeout=busy_timeout, read_only=read_only, clock=clock
    )


def unavailable_store(database: object, cause: str) -> Store:
    """A store whose every operation raises `StoreUnavailable` with `cause`."""
    if is_postgres_url(database):
        from bot.core.store.postgres import PostgresStore

        url = database if isinstance(database, PostgresUrl) else PostgresUrl(str(database))
        return PostgresStore.unavailable(url, cause)
    from bot.core.store.sqlite import SQLiteStore

    return SQLiteStore.unavailable(_path(database), cause)


def _path(database: object) -> str | os.PathLike[str]:
    if isinstance(database, str | os.PathLike):
        return database
    raise TypeError(f"a database is a file path or a postgresql:// URL, not {type(database).__name__}")
