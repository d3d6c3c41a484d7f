"""What only the PostgreSQL engine does: migrations under an advisory lock, a password that
never shows, lock timeouts, read-only opening and the LISTEN/NOTIFY change feed, on a real
PostgreSQL (pgserver) started once for the session."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from bot.core.models import Citation, Entry
from bot.core.store import (
    PostgresUrl,
    Store,
    StoreBusy,
    StoreReadOnly,
    StoreUnavailable,
    load_migrations,
)
from bot.core.store.postgres import PostgresStore
from bot.settings import Settings

GUILD = 333_333_333_333_333_333
MOD = 42
PASSWORD = "s3cret-Pa55word"


def make_entry(entry_id: str, answer: str = "An answer.") -> Entry:
    return Entry(
        id=entry_id,
        questions=[f"What about {entry_id}?"],
        answer=answer,
        citations=[Citation(source="article", excerpt=f"Excerpt for {entry_id}.")],
    )


def with_password(url: str, password: str = PASSWORD) -> str:
    """The same database, with a password in the URL (the test server trusts local logins)."""
    parts = urlsplit(url)
    user = parts.netloc.rsplit("@", 1)[0].split(":", 1)[0] if "@" in parts.netloc else "postgres"
    host = parts.netloc.rsplit("@", 1)[1] if "@" in parts.netloc else parts.netloc
    return urlunsplit((parts.scheme, f"{user}:{password}@{host}", parts.path, parts.query, ""))


async def test_ten_processes_starting_at_once_apply_each_migration_once(
    postgres_url_factory: Callable[[], str],
) -> None:
    url = postgres_url_factory()
    stores = await asyncio.gather(*(Store.open(url, pool_size=1) for _ in range(10)))
    try:
        assert all(isinstance(s, PostgresStore) for s in stores)
        # Each store tried: exactly one applied the migrations, the rest found them done.
        again = await asyncio.gather(*(s._migrate() for s in stores))  # type: ignore[attr-defined]
        assert again == [[]] * 10
        applied = await stores[0].applied_migrations()
        assert [(v, n) for v, n, _ in applied] == [(m.version, m.name) for m in load_migrations("postgresql")]
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT COUNT(*) FROM schema_migrations") == len(applied)
        finally:
            await conn.close()
    finally:
        await asyncio.gather(*(s.close() for s in stores))


async def test_concurrent_migrators_wait_for_the_lock_and_apply_once(
    postgres_url_factory: Callable[[], str],
) -> None:
    """Ten first starts against an empty database: the advisory lock lets one migrate."""
    url = PostgresUrl(postgres_url_factory())
    pools = [
        PostgresStore(await asyncpg.create_pool(url.dsn(), min_size=1, max_size=1), url, read_only=False)
        for _ in range(10)
    ]
    try:
        results = await asyncio.gather(*(s._migrate() for s in pools))
        applied = [r for r in results if r]
        assert applied == [[m.version for m in load_migrations("postgresql")]], results
    finally:
        await asyncio.gather(*(s.close() for s in pools))


async def test_the_password_never_shows(
    postgres_url_factory: Callable[[], str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = with_password(postgres_url_factory())
    settings = Settings(database=url)
    assert PASSWORD not in str(settings.database) and PASSWORD not in repr(settings)
    assert PASSWORD not in settings.model_dump_json()
    async with await Store.open(settings.database) as store:
        assert PASSWORD not in store.location and "***" in store.location
        await store.create_entry(GUILD, make_entry("e"), MOD)
    # A server that cannot be reached: the error names the server, not the password.
    unreachable = f"postgresql://bot:{PASSWORD}@127.0.0.1:1/meeting"
    with pytest.raises(StoreUnavailable) as info:
        await Store.open(unreachable, busy_timeout=0.5)
    for text in (str(info.value), info.value.describe(), repr(info.value)):
        assert PASSWORD not in text
    assert "127.0.0.1:1" in info.value.describe()
    unavailable = Store.unavailable(PostgresUrl(unreachable), info.value.cause)
    with pytest.raises(StoreUnavailable) as later:
        await unavailable.count_entries(GUILD)
    assert PASSWORD not in later.value.describe()
    assert PASSWORD not in caplog.text
    # A password given as a parameter is masked too.
    assert PASSWORD not in str(PostgresUrl(f"postgresql:///meeting?host=/tmp&password={PASSWORD}"))


async def test_a_scope_locked_past_the_busy_timeout_is_busy(postgres_url_factory: Callable[[], str]) -> None:
    url = postgres_url_factory()
    async with await Store.open(url, busy_timeout=0.2) as store:
        await store.create_entry(GUILD, make_entry("kept"), MOD)
        other = await asyncpg.connect(url)
        try:
            async with other.transaction():
                await other.execute("SELECT * FROM scope_versions WHERE scope = $1 FOR UPDATE", GUILD)
                with pytest.raises(StoreBusy):
                    await store.create_entry(GUILD, make_entry("blocked"), MOD)
                # Other servers, and reads, are not held up by one server's writer.
                await store.create_entry(GUILD + 1, make_entry("elsewhere"), MOD)
                assert [e.id for e in await store.active_entries(GUILD)] == ["kept"]
        finally:
            await other.close()
        await store.create_entry(GUILD, make_entry("after"), MOD)
        assert await store.count_entries(GUILD) == 2


async def test_read_only_open_reads_and_refuses_writes(postgres_url_factory: Callable[[], str]) -> None:
    url = postgres_url_factory()
    with pytest.raises(StoreUnavailable) as info:
        await Store.open(url, read_only=True)
    assert "none of this bot's tables" in info.value.describe()
    async with await Store.open(url) as store:
        await store.create_entry(GUILD, make_entry("mine"), MOD)
    async with await Store.open(url, read_only=True) as store:
        assert store.read_only
        assert [e.id for e in await store.active_entries(GUILD)] == ["mine"]
        with pytest.raises(StoreReadOnly):
            await store.create_entry(GUILD, make_entry("new"), MOD)
        with pytest.raises(StoreReadOnly):
            await store.log_question(GUILD, 1, 1, "q?", False, None, 0.0)


async def test_change_feed_names_the_scope_and_survives_a_lost_connection(
    postgres_url_factory: Callable[[], str],
) -> None:
    url = postgres_url_factory()
    watcher, writer = await Store.open(url), await Store.open(url)
    async with watcher, writer, watcher.change_feed(0.1) as feed:
        assert await feed.wait(1.0) is None  # connected: compare everything once
        assert await feed.wait(0.05) == set()  # nothing happened
        before = await watcher.scope_versions()
        await writer.create_entry(GUILD, make_entry("e"), MOD)
        assert await feed.wait(2.0) == {GUILD}
        after = await watcher.scope_versions()
        assert after[GUILD] > before.get(GUILD, 0)
        # The listening connection is killed: the feed says "compare everything", reconnects,
        # and hears the next change.
        admin = await asyncpg.connect(url)
        try:
            killed = await admin.fetchval(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE pid <> pg_backend_pid() AND datname = current_database()"
                " AND query LIKE 'LISTEN%'"
            )
        finally:
            await admin.close()
        assert killed == 1
        assert await feed.wait(2.0) is None  # lost, or already reconnected: compare everything
        while (hint := await feed.wait(0.2)) is None:  # reconnecting
            pass
        assert hint == set()
        await writer.update_entry(GUILD, make_entry("e", "Changed."), MOD, expected_version=1)
        assert await feed.wait(2.0) == {GUILD}


async def test_an_unreachable_server_is_a_degraded_start(caplog: pytest.LogCaptureFixture) -> None:
    """As with a broken SQLite file: one warning naming the server, answers from the files."""
    from bot.core.assistant import Assistant

    caplog.set_level(logging.INFO)
    settings = Settings(database=f"postgresql://bot:{PASSWORD}@127.0.0.1:1/meeting", db_busy_timeout=0.5)
    assistant = await Assistant.start(settings)
    try:
        assert not assistant.store.available
        asked = await assistant.ask("Who attended the meeting?")
        assert asked.answer.answered and asked.question_id is None  # nothing to log it in
        with pytest.raises(StoreUnavailable):
            await assistant.store.count_entries(GUILD)
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("postgresql://bot:***@127.0.0.1:1/meeting" in w for w in warnings), warnings
        assert PASSWORD not in caplog.text
    finally:
        await assistant.close()
