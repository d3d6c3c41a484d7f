"""Tests of the store (bot.core.store), each on a database of its own: the engine-neutral ones
run on both engines (an SQLite file under tmp_path, and a fresh database on one real
PostgreSQL started for the session); the SQLite-only ones test its files, locks and PRAGMAs.

Read-only note: the suite runs as root, and root's CAP_DAC_OVERRIDE ignores chmod, so a
0444 file in a 0555 directory is still writable to it. The read-only path is therefore
tested two ways: with `read_only=True` (a `mode=ro` URI, which SQLite enforces for anyone),
and, where `setpriv` can drop DAC override, in a child process for which chmod really bites.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import asyncpg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.models import Citation, Entry
from bot.core.store import (
    EntryExists,
    EntryNotFound,
    LimitExceeded,
    QuestionNotFound,
    ReadOnlyScope,
    Store,
    StoreBusy,
    StoredEntry,
    StoreError,
    StoreReadOnly,
    StoreUnavailable,
    VersionConflict,
    load_migrations,
    require_live,
)
from bot.core.store.postgres import PostgresStore
from tests.databases import ENGINES, Engine

REPO_ROOT = Path(__file__).resolve().parents[2]
GUILD_A = 111_111_111_111_111_111
GUILD_B = 222_222_222_222_222_222
MOD = 42


def make_entry(entry_id: str, answer: str = "An answer.", *questions: str) -> Entry:
    return Entry(
        id=entry_id,
        questions=list(questions) or [f"What about {entry_id}?"],
        answer=answer,
        citations=[Citation(source="article", excerpt=f"Excerpt for {entry_id}.")],
    )


class Clock:
    """A controllable UTC clock passed to Store.open(clock=...)."""

    def __init__(self) -> None:
        self.now = datetime(2023, 1, 12, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "bot.sqlite3"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> Engine:
    return cast(Engine, request.param)


@pytest.fixture
def database(engine: Engine, db_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """A fresh database of the test's engine: the SQLite file, or a new PostgreSQL database."""
    if engine == "postgresql":
        factory: Callable[[], str] = request.getfixturevalue("postgres_url_factory")
        return factory()
    return db_path


@pytest.fixture
async def store(database: Path | str, clock: Clock) -> AsyncIterator[Store]:
    async with await Store.open(database, busy_timeout=2.0, clock=clock) as s:
        yield s


CHILD_ENV = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


async def run(*argv: str) -> tuple[int, str, str]:
    """Run a child process from the repository root; returns (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=REPO_ROOT, env=CHILD_ENV, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def count_rows(store: Store, table: str) -> int:
    """Rows of a table, counted past the store (on its own connection)."""
    if isinstance(store, PostgresStore):
        conn = await asyncpg.connect(store.url.dsn())
        try:
            return int(await conn.fetchval(f"SELECT COUNT(*) FROM {table}"))
        finally:
            await conn.close()
    with sqlite3.connect(store.path) as raw:
        return int(raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


async def version_rows(store: Store) -> int:
    return await count_rows(store, "entry_versions")


def engine_io_error(store: Store) -> Exception:
    """What the engine's driver raises when the disk fails under a write."""
    if isinstance(store, PostgresStore):
        return asyncpg.exceptions.PostgresIOError("could not write block: I/O error")
    return sqlite3.OperationalError("disk I/O error")


# ---- migrations and connection ------------------------------------------------------------


async def test_migrations_applied_once_and_idempotent(database: Path | str, engine: Engine) -> None:
    migrations = load_migrations(engine)
    async with await Store.open(database) as s:
        assert await s.schema_version() == len(migrations)
        first = await s.applied_migrations()
        assert [(v, n) for v, n, _ in first] == [(m.version, m.name) for m in migrations]
        assert first[0][1] == "initial"
    async with await Store.open(database) as s:
        assert await s.schema_version() == len(migrations)
        assert await s._migrate() == []  # type: ignore[attr-defined]  # nothing left to apply
        assert await s.applied_migrations() == first  # same rows, same applied_at
        for table in ("schema_migrations", "entries", "entry_versions", "question_log", "feedback"):
            assert await count_rows(s, table) >= 0
        assert await count_rows(s, "guild_config") == 0
        assert await s.scope_versions() == {}


async def test_a_database_of_the_first_schema_gets_its_change_counters(db_path: Path) -> None:
    """An SQLite file made before the counters existed: 0002 adds them, one per scope in use."""
    async with await Store.open(db_path) as s:
        await s.seed_base([make_entry("base")])
        await s.create_entry(GUILD_A, make_entry("mine"), MOD)
    with sqlite3.connect(db_path) as raw:  # back to the schema of migration 0001
        raw.execute("DROP TABLE scope_versions")
        raw.execute("DELETE FROM schema_migrations WHERE version = 2")
    async with await Store.open(db_path) as s:
        assert await s.schema_version() == 2
        assert await s.scope_versions() == {None: 1, GUILD_A: 1}
        await s.create_entry(GUILD_A, make_entry("more"), MOD)
        assert await s.scope_versions() == {None: 1, GUILD_A: 2}


async def test_connection_settings_and_parent_dir(tmp_path: Path) -> None:
    path = tmp_path / "not" / "yet" / "there.sqlite3"
    async with await Store.open(path, busy_timeout=0.25) as s:
        assert path.exists()
        db = s._conn()
        assert (await db.execute_fetchall("PRAGMA journal_mode"))[0][0] == "wal"  # type: ignore[index]
        assert (await db.execute_fetchall("PRAGMA synchronous"))[0][0] == 1  # type: ignore[index]  # NORMAL
        assert (await db.execute_fetchall("PRAGMA foreign_keys"))[0][0] == 1  # type: ignore[index]
        assert (await db.execute_fetchall("PRAGMA busy_timeout"))[0][0] == 250  # type: ignore[index]
        assert not s.read_only


async def test_closed_store_raises_store_error(database: Path | str) -> None:
    s = await Store.open(database)
    await s.close()
    await s.close()  # closing twice is harmless
    with pytest.raises(StoreError, match="closed"):
        await s.count_entries(None)


# ---- seeding the curated base -------------------------------------------------------------


async def test_seed_is_idempotent(store: Store) -> None:
    entries = [make_entry("a"), make_entry("b"), make_entry("c")]
    first = await store.seed_base(entries)
    assert (first.added, first.updated, first.removed, first.unchanged) == (3, 0, 0, 0)
    rows = await version_rows(store)
    second = await store.seed_base(entries)
    assert (second.added, second.updated, second.removed, second.unchanged) == (0, 0, 0, 3)
    assert await version_rows(store) == rows
    active = await store.active_entries(None)
    assert [e.entry.id for e in active] == ["a", "b", "c"]
    assert all(e.scope is None and e.origin == "file" and e.version == 1 for e in active)
    assert all(e.updated_by is None for e in active)


async def test_seed_changed_content_makes_a_new_version(store: Store) -> None:
    await store.seed_base([make_entry("a", "Old answer."), make_entry("b")])
    report = await store.seed_base([make_entry("a", "New answer."), make_entry("b")])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 1)
    current = await store.get_entry(None, "a")
    assert current is not None and current.version == 2 and current.entry.answer == "New answer."
    history = await store.history(None, "a")
    assert [(v.version, v.action) for v in history] == [(1, "seed"), (2, "seed")]
    assert history[0].entry is not None and history[0].entry.answer == "Old answer."


async def test_seed_soft_deletes_entries_gone_from_files_and_restores_them(store: Store) -> None:
    await store.seed_base([make_entry("a"), make_entry("b")])
    report = await store.seed_base([make_entry("a")])
    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 1, 1)
    assert [e.entry.id for e in await store.active_entries(None)] == ["a"]
    assert await store.get_entry(None, "b") is None
    gone = await store.get_entry(None, "b", include_deleted=True)
    assert gone is not None and gone.deleted and gone.version == 2
    assert await store.count_entries(None) == 1

    rows = await version_rows(store)
    again = await store.seed_base([make_entry("a")])  # still gone: nothing new
    assert (again.removed, again.unchanged) == (0, 1)
    assert await version_rows(store) == rows

    back = await store.seed_base([make_entry("a"), make_entry("b")])
    assert (back.added, back.removed, back.unchanged) == (1, 0, 1)
    restored = await store.get_entry(None, "b")
    assert restored is not None and restored.version == 3 and not restored.deleted
    assert [v.action for v in await store.history(None, "b")] == ["seed", "remove", "seed"]


async def test_seed_rejects_duplicate_ids_without_writing(store: Store) -> None:
    with pytest.raises(ValueError, match="duplicate"):
        await store.seed_base([make_entry("a"), make_entry("a", "Other.")])
    assert await store.count_entries(None) == 0


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sets(st.sampled_from(["a", "b", "c", "d"])), min_size=1, max_size=5))
def test_seed_property_active_set_follows_the_files(runs: list[set[str]]) -> None:
    """After any sequence of seeds, the base is the last file set, and re-seeding it is a no-op."""

    async def scenario(path: Path) -> None:
        async with await Store.open(path) as s:
            for ids in runs:
                await s.seed_base([make_entry(i, f"Answer {i}.") for i in sorted(ids)])
            last = sorted(runs[-1])
            assert [e.entry.id for e in await s.active_entries(None)] == last
            rows = await version_rows(s)
            report = await s.seed_base([make_entry(i, f"Answer {i}.") for i in last])
            assert report.unchanged == len(last) and report.added == report.updated == report.removed == 0
            assert await version_rows(s) == rows

    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(scenario(Path(tmp) / "p.sqlite3"))


# ---- scopes -------------------------------------------------------------------------------


async def test_scopes_are_isolated(store: Store) -> None:
    await store.seed_base([make_entry("base-one")])
    await store.create_entry(GUILD_A, make_entry("alpha-entry"), MOD)
    await store.create_entry(GUILD_A, make_entry("shared-id", "A's answer."), MOD)
    await store.create_entry(GUILD_B, make_entry("shared-id", "B's answer."), MOD)

    assert [e.entry.id for e in await store.active_entries(GUILD_A)] == ["alpha-entry", "shared-id"]
    assert [e.entry.id for e in await store.active_entries(GUILD_B)] == ["shared-id"]
    assert [e.entry.id for e in await store.active_entries(None)] == ["base-one"]
    assert await store.get_entry(GUILD_B, "alpha-entry") is None
    assert await store.get_entry(None, "alpha-entry") is None
    b_shared = await store.get_entry(GUILD_B, "shared-id")
    assert b_shared is not None and b_shared.entry.answer == "B's answer." and b_shared.scope == GUILD_B
    assert (await store.count_entries(GUILD_A), await store.count_entries(GUILD_B)) == (2, 1)

    everything = [(e.scope, e.entry.id) for e in await store.all_active_entries()]
    assert everything == [
        (None, "base-one"),
        (GUILD_A, "alpha-entry"),
        (GUILD_A, "shared-id"),
        (GUILD_B, "shared-id"),
    ]

    # Removing in one guild leaves the other guild's entry with the same id alone.
    await store.remove_entry(GUILD_A, "shared-id", MOD)
    assert await store.get_entry(GUILD_B, "shared-id") is not None


async def test_entry_summaries_are_the_phrasings_and_answer_of_each_entry(store: Store) -> None:
    await store.create_entry(GUILD_A, make_entry("b-entry", "Bee.", "Who is B?", "B who?"), MOD)
    await store.create_entry(GUILD_A, make_entry("a-entry", "Ay."), MOD)
    await store.create_entry(GUILD_B, make_entry("elsewhere"), MOD)
    await store.update_entry(GUILD_A, make_entry("b-entry", "Bee, edited.", "Who is B?"), MOD, 1)
    await store.remove_entry(GUILD_A, "a-entry", MOD)
    live = await store.entry_summaries(GUILD_A)
    assert [(s.id, s.questions, s.answer, s.deleted) for s in live] == [
        ("b-entry", ["Who is B?"], "Bee, edited.", False)
    ]
    everything = await store.entry_summaries(GUILD_A, include_removed=True)
    assert [(s.id, s.deleted) for s in everything] == [("a-entry", True), ("b-entry", False)]
    assert datetime.fromisoformat(everything[0].updated_at).tzinfo is not None


async def test_search_entry_ids_prefix_first_and_scoped(store: Store) -> None:
    for entry_id in ["yen-policy", "defense-budget", "budget", "japan-defense"]:
        await store.create_entry(GUILD_A, make_entry(entry_id), MOD)
    await store.create_entry(GUILD_B, make_entry("defense-other"), MOD)
    await store.remove_entry(GUILD_A, "budget", MOD)
    assert await store.search_entry_ids(GUILD_A, "DEF") == ["defense-budget", "japan-defense"]
    assert await store.search_entry_ids(GUILD_A, "") == ["defense-budget", "japan-defense", "yen-policy"]
    assert await store.search_entry_ids(GUILD_A, "e", limit=1) == ["defense-budget"]
    assert await store.search_entry_ids(GUILD_A, "%") == []  # no LIKE wildcards
    assert await store.search_entry_ids(None, "def") == []


# ---- curation -----------------------------------------------------------------------------


async def test_create_update_remove_history_and_revert(store: Store, clock: Clock) -> None:
    created = await store.create_entry(GUILD_A, make_entry("e", "One."), MOD)
    assert (created.version, created.origin, created.updated_by, created.scope) == (
        1,
        "discord",
        MOD,
        GUILD_A,
    )
    clock.advance(minutes=1)
    edited = await store.update_entry(GUILD_A, make_entry("e", "Two."), 7, expected_version=1)
    assert edited.version == 2 and edited.entry.answer == "Two." and edited.updated_by == 7
    clock.advance(minutes=1)
    removed = await store.remove_entry(GUILD_A, "e", MOD, expected_version=2)
    assert removed.deleted and removed.version == 3 and removed.entry.answer == "Two."
    assert await store.get_entry(GUILD_A, "e") is None
    assert await store.active_entries(GUILD_A) == []
    with pytest.raises(EntryNotFound, match="revert"):
        await store.update_entry(GUILD_A, make_entry("e", "Three."), MOD, expected_version=3)
    with pytest.raises(EntryNotFound):
        await store.remove_entry(GUILD_A, "e", MOD)

    # Reverting a removal to an earlier version restores that content as a new version.
    clock.advance(minutes=1)
    restored = await store.revert(GUILD_A, "e", 1, 99, expected_version=3)
    assert (restored.version, restored.deleted, restored.entry.answer) == (4, False, "One.")
    # Reverting to a 'remove' version removes it again.
    again_removed = await store.revert(GUILD_A, "e", 3, 99)
    assert again_removed.deleted and again_removed.version == 5
    # ... and reverting to that removal once more changes nothing.
    assert (await store.revert(GUILD_A, "e", 3, 99)).version == 5
    back = await store.revert(GUILD_A, "e", 2, 99)
    assert (back.version, back.entry.answer) == (6, "Two.")
    # Reverting to the content it already has writes nothing.
    assert (await store.revert(GUILD_A, "e", 6, 99)).version == 6

    history = await store.history(GUILD_A, "e")
    assert [(h.version, h.action) for h in history] == [
        (1, "create"),
        (2, "edit"),
        (3, "remove"),
        (4, "revert"),
        (5, "revert"),
        (6, "revert"),
    ]
    assert history[2].entry is None and history[4].entry is None
    assert history[3].note == "reverted to version 1"
    assert [h.actor_id for h in history] == [MOD, 7, MOD, 99, 99, 99]
    assert history[0].at < history[1].at < history[2].at
    assert all(h.at.tzinfo is not None for h in history)
    assert await store.history(GUILD_A, "never") == []

    with pytest.raises(EntryNotFound, match="no version 42"):
        await store.revert(GUILD_A, "e", 42, MOD)
    with pytest.raises(EntryNotFound):
        await store.revert(GUILD_A, "never", 1, MOD)


async def test_update_without_change_writes_no_version(store: Store) -> None:
    await store.create_entry(GUILD_A, make_entry("e"), MOD)
    same = await store.update_entry(GUILD_A, make_entry("e"), MOD, expected_version=1)
    assert same.version == 1
    assert len(await store.history(GUILD_A, "e")) == 1


async def test_stale_expected_version_conflicts(store: Store) -> None:
    await store.create_entry(GUILD_A, make_entry("e", "One."), MOD)
    await store.update_entry(GUILD_A, make_entry("e", "Two."), MOD, expected_version=1)
    with pytest.raises(VersionConflict) as info:
        await store.update_entry(GUILD_A, make_entry("e", "Stale."), MOD, expected_version=1)
    assert (info.value.entry_id, info.value.expected, info.value.actual) == ("e", 1, 2)
    assert "someone else changed" in str(info.value).lower() and "reload" in str(info.value).lower()
    with pytest.raises(VersionConflict):
        await store.remove_entry(GUILD_A, "e", MOD, expected_version=1)
    with pytest.raises(VersionConflict):
        await store.revert(GUILD_A, "e", 1, MOD, expected_version=1)
    current = await store.get_entry(GUILD_A, "e")
    assert current is not None and current.entry.answer == "Two." and current.version == 2


async def test_two_connections_editing_at_once_exactly_one_wins(database: Path | str) -> None:
    async with await Store.open(database) as first, await Store.open(database) as second:
        await first.create_entry(GUILD_A, make_entry("e", "Original."), MOD)
        seen_a = await first.get_entry(GUILD_A, "e")
        seen_b = await second.get_entry(GUILD_A, "e")
        assert seen_a is not None and seen_b is not None and seen_a.version == seen_b.version == 1
        results = await asyncio.gather(
            first.update_entry(
                GUILD_A, make_entry("e", "From editor A."), 1, expected_version=seen_a.version
            ),
            second.update_entry(
                GUILD_A, make_entry("e", "From editor B."), 2, expected_version=seen_b.version
            ),
            return_exceptions=True,
        )
        wins = [r for r in results if not isinstance(r, BaseException)]
        conflicts = [r for r in results if isinstance(r, VersionConflict)]
        assert len(wins) == 1 and len(conflicts) == 1, results
        assert conflicts[0].actual == 2
        final = await second.get_entry(GUILD_A, "e")
        assert final is not None and final.version == 2
        assert final.entry.answer == wins[0].entry.answer
        assert len(await first.history(GUILD_A, "e")) == 2


async def test_require_live_is_the_rule_of_every_edit(store: Store) -> None:
    """What an edit's transaction refuses, and an edit form's pre-check with it: missing,
    removed, stale."""

    async def live(expected: int | None = None) -> StoredEntry:
        return require_live("e", await store.get_entry(GUILD_A, "e", include_deleted=True), expected)

    with pytest.raises(EntryNotFound, match="no entry 'e'"):
        await live()
    await store.create_entry(GUILD_A, make_entry("e", "One."), MOD)
    await store.update_entry(GUILD_A, make_entry("e", "Two."), MOD, expected_version=1)
    current = await live(2)
    assert (current.version, current.entry.answer) == (2, "Two.")
    with pytest.raises(VersionConflict) as info:
        await live(1)
    assert (info.value.expected, info.value.actual) == (1, 2)
    await store.remove_entry(GUILD_A, "e", MOD)
    for expected in (None, 3, 1):  # removed wins over stale, in the write as here
        with pytest.raises(EntryNotFound, match="revert"):
            await live(expected)
        with pytest.raises(EntryNotFound, match="revert"):
            await store.update_entry(GUILD_A, make_entry("e", "Three."), MOD, expected_version=expected or 3)


async def test_curation_writes_to_the_base_are_refused(store: Store) -> None:
    await store.seed_base([make_entry("base")])
    for scope in (None, 0):
        with pytest.raises(ReadOnlyScope, match="read-only"):
            await store.create_entry(scope, make_entry("new"), MOD)
        with pytest.raises(ReadOnlyScope):
            await store.update_entry(scope, make_entry("base", "Changed."), MOD, expected_version=1)
        with pytest.raises(ReadOnlyScope):
            await store.remove_entry(scope, "base", MOD)
        with pytest.raises(ReadOnlyScope):
            await store.revert(scope, "base", 1, MOD)
        with pytest.raises(ReadOnlyScope):
            await store.import_entries(scope, [make_entry("new")], MOD)
    base = await store.get_entry(None, "base")
    assert base is not None and base.version == 1 and base.entry.answer == "An answer."
    assert await store.count_entries(None) == 1


async def test_create_existing_or_removed_id_raises_entry_exists(store: Store) -> None:
    await store.create_entry(GUILD_A, make_entry("e"), MOD)
    with pytest.raises(EntryExists) as info:
        await store.create_entry(GUILD_A, make_entry("e", "Other."), MOD)
    assert info.value.entry_id == "e"
    await store.remove_entry(GUILD_A, "e", MOD)
    with pytest.raises(EntryExists, match="revert"):
        await store.create_entry(GUILD_A, make_entry("e", "Other."), MOD)
    # The same id in another guild is fine.
    await store.create_entry(GUILD_B, make_entry("e"), MOD)


async def test_limit_exceeded(store: Store) -> None:
    await store.create_entry(GUILD_A, make_entry("one"), MOD, max_entries=2)
    await store.create_entry(GUILD_A, make_entry("two"), MOD, max_entries=2)
    with pytest.raises(LimitExceeded) as info:
        await store.create_entry(GUILD_A, make_entry("three"), MOD, max_entries=2)
    assert info.value.limit == 2 and "at most 2" in str(info.value)
    assert await store.count_entries(GUILD_A) == 2
    await store.create_entry(GUILD_B, make_entry("three"), MOD, max_entries=2)  # per guild

    # Removed entries do not count; restoring one counts again.
    await store.remove_entry(GUILD_A, "two", MOD)
    await store.create_entry(GUILD_A, make_entry("three"), MOD, max_entries=2)
    with pytest.raises(LimitExceeded):
        await store.revert(GUILD_A, "two", 1, MOD, max_entries=2)
    assert await store.get_entry(GUILD_A, "two") is None

    # An import that would pass the limit writes nothing.
    with pytest.raises(LimitExceeded):
        await store.import_entries(
            GUILD_A, [make_entry("four"), make_entry("one", "Edited.")], MOD, max_entries=2
        )
    assert [e.entry.id for e in await store.active_entries(GUILD_A)] == ["one", "three"]
    one = await store.get_entry(GUILD_A, "one")
    assert one is not None and one.version == 1


async def test_import_adds_updates_restores_and_skips_unchanged(store: Store) -> None:
    await store.create_entry(GUILD_A, make_entry("same"), MOD)
    await store.create_entry(GUILD_A, make_entry("changed", "Old."), MOD)
    await store.create_entry(GUILD_A, make_entry("removed", "Gone."), MOD)
    await store.remove_entry(GUILD_A, "removed", MOD)
    added, updated = await store.import_entries(
        GUILD_A,
        [
            make_entry("same"),
            make_entry("changed", "New."),
            make_entry("removed", "Back."),
            make_entry("new"),
        ],
        MOD,
    )
    assert (added, updated) == (2, 1)
    assert [e.entry.id for e in await store.active_entries(GUILD_A)] == ["changed", "new", "removed", "same"]
    assert [h.action for h in await store.history(GUILD_A, "removed")] == ["create", "remove", "import"]
    assert [h.action for h in await store.history(GUILD_A, "new")] == ["import"]
    assert len(await store.history(GUILD_A, "same")) == 1


async def test_import_is_all_or_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    await store.create_entry(GUILD_A, make_entry("existing", "Before."), MOD)
    rows = await version_rows(store)

    # A duplicate id in the batch: nothing is written.
    with pytest.raises(EntryExists, match="more than once"):
        await store.import_entries(
            GUILD_A, [make_entry("x"), make_entry("existing", "After."), make_entry("x")], MOD
        )
    assert await version_rows(store) == rows

    # A failure part-way through the batch (third write fails): the first two are rolled back.
    real = store._insert_version
    calls = 0

    async def failing(db: object, values: tuple[object, ...]) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise engine_io_error(store)
        await real(db, values)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "_insert_version", failing)
    batch = [make_entry("x"), make_entry("existing", "After."), make_entry("y")]
    with pytest.raises(StoreError) as info:
        await store.import_entries(GUILD_A, batch, MOD)
    assert type(info.value) is StoreError and type(info.value.__cause__) is type(engine_io_error(store))
    monkeypatch.undo()

    assert await version_rows(store) == rows
    assert [e.entry.id for e in await store.active_entries(GUILD_A)] == ["existing"]
    existing = await store.get_entry(GUILD_A, "existing")
    assert existing is not None and existing.entry.answer == "Before." and existing.version == 1
    # The connection is healthy afterwards.
    assert await store.import_entries(GUILD_A, batch, MOD) == (2, 1)


# ---- question log and feedback ------------------------------------------------------------


async def test_question_log_and_one_vote_per_user(store: Store) -> None:
    q1 = await store.log_question(GUILD_A, 5, 10, "Who met?", True, "attendance", 0.92)
    q2 = await store.log_question(None, None, 11, "What happened?", False, None, 0.1)
    assert q2 > q1
    assert await store.feedback_counts(q1) == (0, 0)
    await store.record_feedback(q1, 10, True)
    assert await store.feedback_counts(q1) == (1, 0)
    await store.record_feedback(q1, 10, False)  # the same user changes their mind
    assert await store.feedback_counts(q1) == (0, 1)
    await store.record_feedback(q1, 12, True)
    await store.record_feedback(q1, 12, True)
    assert await store.feedback_counts(q1) == (1, 1)
    with pytest.raises(QuestionNotFound):
        await store.record_feedback(9999, 10, True)


async def test_unanswered_questions_grouping_order_and_since(store: Store, clock: Clock) -> None:
    await store.log_question(GUILD_A, 1, 1, "What about the yen?", False, None, 0.1)
    clock.advance(hours=1)
    cutoff = clock.now
    await store.log_question(GUILD_A, 1, 2, "  what ABOUT   the\tyen? ", False, None, 0.2)
    clock.advance(minutes=1)
    await store.log_question(GUILD_A, 1, 3, "Who won the election?", False, None, 0.0)
    await store.log_question(GUILD_A, 1, 3, "Who met?", True, "attendance", 0.9)  # answered: excluded
    # Answered from the article text, not by an entry: a gap a moderator can fill.
    await store.log_question(GUILD_A, 1, 3, "When is the summit?", True, None, 0.4)
    await store.log_question(GUILD_B, 1, 3, "What about the yen?", False, None, 0.1)  # other guild
    await store.log_question(None, None, 3, "What about the yen?", False, None, 0.1)  # DMs

    stats = await store.unanswered_questions(GUILD_A, None)
    assert [(s.question, s.count) for s in stats] == [
        ("  what ABOUT   the\tyen? ", 2),  # the most recent phrasing stands for its group
        ("When is the summit?", 1),
        ("Who won the election?", 1),
    ]
    assert stats[0].last_asked == cutoff
    assert stats[1].last_asked == cutoff + timedelta(minutes=1)

    since = await store.unanswered_questions(GUILD_A, cutoff)
    assert [(s.question, s.count) for s in since] == [
        ("When is the summit?", 1),  # tie on count: most recent first, then by text
        ("Who won the election?", 1),
        ("  what ABOUT   the\tyen? ", 1),
    ]
    assert await store.unanswered_questions(GUILD_A, cutoff + timedelta(days=1)) == []
    assert len(await store.unanswered_questions(GUILD_A, None, limit=1)) == 1
    assert [s.count for s in await store.unanswered_questions(None, None)] == [1]
    # A naive `since` is read as UTC.
    naive = await store.unanswered_questions(GUILD_A, cutoff.replace(tzinfo=None))
    assert len(naive) == 3


async def test_guild_stats(store: Store, clock: Clock) -> None:
    old = await store.log_question(GUILD_A, 1, 1, "Old question?", True, "old-entry", 0.9)
    await store.record_feedback(old, 1, False)
    clock.advance(days=2)
    since = clock.now
    q = [
        await store.log_question(GUILD_A, 1, 1, "Who met?", True, "attendance", 0.9),
        await store.log_question(GUILD_A, 1, 2, "Who attended?", True, "attendance", 0.8),
        await store.log_question(GUILD_A, 1, 3, "What was said?", True, "statement", 0.7),
        await store.log_question(GUILD_A, 1, 4, "Weather?", False, None, 0.1),
    ]
    await store.log_question(GUILD_B, 1, 5, "Who met?", True, "attendance", 0.9)
    await store.record_feedback(q[0], 1, True)
    await store.record_feedback(q[0], 2, True)
    await store.record_feedback(q[2], 3, False)

    recent = await store.guild_stats(GUILD_A, since)
    assert (recent.asked, recent.answered, recent.helpful, recent.not_helpful) == (4, 3, 2, 1)
    assert recent.top_entries == [("attendance", 2), ("statement", 1)]
    everything = await store.guild_stats(GUILD_A)
    assert (everything.asked, everything.answered, everything.not_helpful) == (5, 4, 2)
    assert (await store.guild_stats(GUILD_A, top=1)).top_entries == [("attendance", 2)]
    empty = await store.guild_stats(999)
    assert (empty.asked, empty.answered, empty.top_entries, empty.helpful, empty.not_helpful) == (
        0,
        0,
        [],
        0,
        0,
    )


async def test_moderator_role(store: Store) -> None:
    assert await store.get_moderator_role(GUILD_A) is None
    await store.set_moderator_role(GUILD_A, 555, MOD)
    await store.set_moderator_role(GUILD_B, 777, MOD)
    assert await store.get_moderator_role(GUILD_A) == 555
    await store.set_moderator_role(GUILD_A, 556, MOD)
    assert await store.get_moderator_role(GUILD_A) == 556
    await store.set_moderator_role(GUILD_A, None, MOD)
    assert await store.get_moderator_role(GUILD_A) is None
    assert await store.get_moderator_role(GUILD_B) == 777


# ---- locking, read-only, durability -------------------------------------------------------


async def test_store_busy_when_another_connection_holds_the_write_lock(db_path: Path) -> None:
    async with await Store.open(db_path, busy_timeout=0.1) as s:
        await s.create_entry(GUILD_A, make_entry("kept"), MOD)
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO guild_config (guild_id) VALUES (1)")
            started = time.monotonic()
            with pytest.raises(StoreBusy) as info:
                await s.create_entry(GUILD_A, make_entry("blocked"), MOD)
            assert time.monotonic() - started < 3.0
            assert str(info.value) == "The knowledge base is busy right now; please try again in a moment."
            with pytest.raises(StoreBusy):
                await s.log_question(GUILD_A, 1, 1, "q?", False, None, 0.0)
            # Readers are not blocked by a writer in WAL mode.
            assert [e.entry.id for e in await s.active_entries(GUILD_A)] == ["kept"]
        finally:
            other.execute("ROLLBACK")
            other.close()
        # Once the lock is released, the same store writes normally.
        await s.create_entry(GUILD_A, make_entry("after"), MOD)
        assert await s.count_entries(GUILD_A) == 2


async def test_cancelled_write_leaves_no_transaction_open(db_path: Path) -> None:
    """A task cancelled while waiting for the write lock must not leave BEGIN behind."""
    async with await Store.open(db_path, busy_timeout=5.0) as s:
        other = sqlite3.connect(db_path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            task = asyncio.create_task(s.create_entry(GUILD_A, make_entry("cancelled"), MOD))
            await asyncio.sleep(0.2)  # the store is now waiting on the lock inside BEGIN IMMEDIATE
            task.cancel()
        finally:
            other.execute("ROLLBACK")  # the queued BEGIN now gets the lock after all
            other.close()
        with pytest.raises(asyncio.CancelledError):
            await task
        await s.create_entry(GUILD_A, make_entry("after"), MOD)
        assert [e.entry.id for e in await s.active_entries(GUILD_A)] == ["after"]
    # The other connection can write too: the store holds no lock.
    with sqlite3.connect(db_path, timeout=0.5) as raw:
        raw.execute("INSERT INTO guild_config (guild_id) VALUES (2)")


async def _assert_read_only(s: Store) -> None:
    assert s.read_only
    assert [e.entry.id for e in await s.active_entries(None)] == ["base"]
    assert [e.entry.id for e in await s.active_entries(GUILD_A)] == ["mine"]
    assert await s.get_moderator_role(GUILD_A) == 555
    assert await s.schema_version() == len(load_migrations())
    writes = [
        s.seed_base([make_entry("base", "Changed.")]),
        s.create_entry(GUILD_A, make_entry("new"), MOD),
        s.update_entry(GUILD_A, make_entry("mine", "Changed."), MOD, expected_version=1),
        s.remove_entry(GUILD_A, "mine", MOD),
        s.revert(GUILD_A, "mine", 1, MOD),
        s.import_entries(GUILD_A, [make_entry("new")], MOD),
        s.log_question(GUILD_A, 1, 1, "q?", False, None, 0.0),
        s.record_feedback(1, 1, True),
        s.set_moderator_role(GUILD_A, 1, MOD),
    ]
    for write in writes:
        with pytest.raises(StoreReadOnly, match="read-only"):
            await write


async def _make_db_for_read_only(path: Path) -> None:
    async with await Store.open(path) as s:
        await s.seed_base([make_entry("base")])
        await s.create_entry(GUILD_A, make_entry("mine"), MOD)
        await s.set_moderator_role(GUILD_A, 555, MOD)


@pytest.fixture
def locked_down(db_path: Path) -> Iterator[Path]:
    """Make the database file 0444 and its directory 0555 (root still bypasses this)."""
    yield db_path
    db_path.parent.chmod(0o755)
    if db_path.exists():
        db_path.chmod(0o644)


async def test_read_only_open_reads_work_and_writes_raise(locked_down: Path) -> None:
    path = locked_down
    await _make_db_for_read_only(path)
    path.chmod(0o444)
    path.parent.chmod(0o555)
    async with await Store.open(path, read_only=True) as s:
        await _assert_read_only(s)
    with sqlite3.connect(path) as raw:  # nothing was written
        assert raw.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 2


async def test_read_only_when_the_file_is_unwritable(
    locked_down: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With read_only=False the store notices it cannot write and opens read-only."""
    path = locked_down
    await _make_db_for_read_only(path)
    # As root, os.access says "writable" regardless of mode bits; pretend we are not root.
    monkeypatch.setattr(os, "access", lambda p, mode: not (mode & os.W_OK))
    async with await Store.open(path) as s:
        await _assert_read_only(s)


async def test_read_only_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreUnavailable) as info:
        await Store.open(tmp_path / "missing.sqlite3", read_only=True)
    assert "missing.sqlite3" in info.value.describe() and "does not exist" in info.value.describe()


_CHILD_READ_ONLY = """
import asyncio, json, sys
from bot.core.models import Citation, Entry
from bot.core.store import Store, StoreReadOnly

async def main():
    s = await Store.open(sys.argv[1])
    out = {"read_only": s.read_only, "ids": [e.entry.id for e in await s.all_active_entries()]}
    entry = Entry(id="new", questions=["q?"], answer="a", citations=[Citation(source="article", excerpt="x")])
    try:
        await s.create_entry(1, entry, 1)
        out["write"] = "succeeded"
    except StoreReadOnly as exc:
        out["write"] = str(exc)
    await s.close()
    print(json.dumps(out))

asyncio.run(main())
"""


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root and setpriv to drop CAP_DAC_OVERRIDE in a child",
)
async def test_read_only_for_real_without_dac_override(locked_down: Path) -> None:
    """A child that cannot bypass chmod opens a 0444 file in a 0555 directory read-only."""
    path = locked_down
    await _make_db_for_read_only(path)
    assert not path.with_name(path.name + "-wal").exists()  # a clean close removes the WAL files
    path.chmod(0o444)
    path.parent.chmod(0o555)
    cmd = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--", sys.executable, "-c"]
    probe_code, _, _ = await run(*cmd, f"open({str(path)!r}, 'r+b')")
    if probe_code == 0:
        pytest.skip("setpriv could not drop DAC override here")
    code, out, err = await run(*cmd, _CHILD_READ_ONLY, str(path))
    assert code == 0, err
    result = json.loads(out.strip().splitlines()[-1])
    assert result["read_only"] is True
    assert result["ids"] == ["base", "mine"]
    assert "read-only" in result["write"]


async def test_data_survives_reopening(database: Path | str) -> None:
    async with await Store.open(database) as s:
        await s.seed_base([make_entry("base")])
        await s.create_entry(GUILD_A, make_entry("mine", "Kept."), MOD)
        qid = await s.log_question(GUILD_A, 1, 1, "q?", True, "mine", 0.9)
        await s.record_feedback(qid, 1, True)
    async with await Store.open(database) as s:
        mine = await s.get_entry(GUILD_A, "mine")
        assert mine is not None and mine.entry.answer == "Kept." and mine.version == 1
        assert [e.entry.id for e in await s.active_entries(None)] == ["base"]
        assert await s.feedback_counts(qid) == (1, 0)


_CHILD_WRITER = """
import asyncio, sys, time
from bot.core.models import Citation, Entry
from bot.core.store import Store

async def main():
    s = await Store.open(sys.argv[1])
    entry = Entry(id="durable", questions=["q?"], answer="Acknowledged.",
                  citations=[Citation(source="article", excerpt="x")])
    stored = await s.create_entry(1234, entry, 1)
    print("ACK", stored.version, flush=True)
    time.sleep(60)  # killed with SIGKILL before it can close anything

asyncio.run(main())
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
async def test_acknowledged_write_survives_sigkill(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True, exist_ok=True)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        _CHILD_WRITER,
        str(db_path),
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=CHILD_ENV,
    )
    try:
        assert child.stdout is not None
        line = await asyncio.wait_for(child.stdout.readline(), timeout=30)
        assert line.decode().strip() == "ACK 1"
    finally:
        child.send_signal(signal.SIGKILL)
        await child.communicate()
    assert child.returncode == -signal.SIGKILL
    async with await Store.open(db_path) as s:
        durable = await s.get_entry(1234, "durable")
        assert durable is not None and durable.entry.answer == "Acknowledged."
        assert [h.action for h in await s.history(1234, "durable")] == ["create"]
