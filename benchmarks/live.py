"""Answer latency and change-to-live delay on each store: SQLite, and PostgreSQL when pgserver
can start one here (it is a dev dependency; the rows say so when it cannot).

For each store, one `Assistant` watches for changes as `python -m bot run` does, and a second
store instance (its own connections, as another process would have) commits changes to one
server. The delay is from the writer's commit returning to the watching assistant answering
with the change (polled every millisecond): the hint's trip (PostgreSQL NOTIFY, SQLite's
data_version poll), reading that server's counter and entries, and re-indexing it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from benchmarks.measure import Summary, settle, time_each_async
from benchmarks.report import Report, Row
from bot.core.assistant import Assistant
from bot.core.models import Citation, Entry
from bot.core.store import Store
from bot.settings import Settings

GUILD = 910_000_000_000_000_000
#: A verbatim excerpt of the article, so the entries pass the bot's checks.
EXCERPT = "We stand together with Ukraine against President Putin\u2019s war"


def _entry(n: int) -> Entry:
    return Entry(
        id=f"live-{n}",
        questions=[f"What is the club motto number {n}?"],
        answer=f"Motto {n}.",
        citations=[Citation(source="article", excerpt=EXCERPT)],
    )


@contextlib.contextmanager
def _postgres() -> Any:
    """A throwaway PostgreSQL server, or None (with the reason) where pgserver cannot run."""
    try:
        from pgserver.postgres_server import get_server
    except ImportError:
        yield None, "pgserver is not installed (pip install '.[dev]')"
        return
    root = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    try:
        server = get_server(root, cleanup_mode="delete")
    except Exception as exc:
        yield None, f"pgserver cannot start here: {type(exc).__name__}: {exc}"
        return

    def create(name: str) -> str:
        server.psql(f"CREATE DATABASE {name};")
        return str(server.get_uri(name))

    try:
        yield create, ""
    finally:
        server.cleanup()


@contextlib.asynccontextmanager
async def _watching(database: Path | str) -> AsyncIterator[Assistant]:
    assistant = await Assistant.start(Settings(database=database, cooldown_rate=1_000_000))
    assistant.watch_changes()
    try:
        yield assistant
    finally:
        await assistant.close()


async def _delays(assistant: Assistant, writer: Store, changes: int) -> list[int]:
    """Nanoseconds from each commit to the first answer that shows it."""
    samples: list[int] = []
    for n in range(changes):
        entry = _entry(n)
        question = entry.questions[0]
        await writer.create_entry(GUILD, entry, 1)
        committed = time.perf_counter_ns()
        deadline = committed + 10 * 1_000_000_000
        while assistant.service.answer(question, GUILD).entry_id != entry.id:
            if time.perf_counter_ns() > deadline:
                raise RuntimeError(f"change {n} was not live after 10 s")
            await asyncio.sleep(0.001)
        samples.append(time.perf_counter_ns() - committed)
        await asyncio.sleep(0.05)  # the next change starts from a quiet feed
    return samples


async def _one_store(
    report: Report, name: str, database: Path | str, questions: Sequence[str], changes: int
) -> None:
    async with _watching(database) as assistant, await Store.open(database) as writer:
        settle()
        asks = await time_each_async(lambda q: assistant.ask(q, GUILD), questions, repeat=1, warmup=1)
        report.add(
            Row.latency(
                f"live.ask.{name}",
                "Assistant.ask (question logged behind it)",
                f"{name} store",
                Summary.of(asks),
            )
        )
        delays = await _delays(assistant, writer, changes)
        summary = Summary.of(delays)
        report.add(
            Row.latency(
                f"live.delay.{name}",
                "change to live: commit in one store, answered by another",
                f"{name} store",
                summary,
                note=f"max {summary.max:.0f} ms (target 2,000 ms)",
            )
        )


async def run(report: Report, questions: Sequence[str], changes: int, log: Callable[[str], None]) -> None:
    """The rows `live.ask.<store>` and `live.delay.<store>` for SQLite and PostgreSQL."""
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        log(f"live changes on SQLite: {len(questions)} asks, {changes} changes ...")
        await _one_store(report, "sqlite", Path(tmp) / "live.sqlite3", questions, changes)
    with _postgres() as (create, reason):
        if create is None:
            log(f"live changes on PostgreSQL: skipped ({reason})")
            report.add(
                Row.single("live.delay.postgresql", "change to live", "postgresql store", 0.0, "", reason)
            )
            return
        log(f"live changes on PostgreSQL: {len(questions)} asks, {changes} changes ...")
        await _one_store(report, "postgresql", create("bench"), questions, changes)


# ---- footprint: `python -m benchmarks.live --footprint 10000` ---------------------------------
#: Servers hold at most 500 entries each by default, so N entries fill N / 500 servers.
PER_SERVER = 500


async def _fill(database: Path | str, entries: int) -> None:
    from benchmarks.synthetic import iter_entries
    from bot.core.loader import load_knowledge
    from bot.settings import PROJECT_ROOT

    kb = load_knowledge(PROJECT_ROOT / "knowledge")
    made = [item.entry for item in iter_entries(entries, seed=10_000, kb=kb)]
    async with await Store.open(database) as store:
        for n in range(0, len(made), PER_SERVER):
            await store.import_entries(GUILD + n // PER_SERVER, made[n : n + PER_SERVER], 1)


def _started_rss(database: Path | str) -> float:
    """Resident MiB of a fresh process after `Assistant.start` (as `bot run` starts) on it."""
    import json
    import subprocess

    from bot.settings import PROJECT_ROOT

    code = (
        "import asyncio, gc, json, sys\n"
        "from benchmarks.measure import rss_mb\n"
        "from bot.core.assistant import Assistant\n"
        "from bot.settings import Settings\n"
        "async def main():\n"
        "    a = await Assistant.start(Settings(database=sys.argv[1]))\n"
        "    gc.collect()\n"
        "    print(json.dumps({'rss': rss_mb()}))\n"
        "    await a.close()\n"
        "asyncio.run(main())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(database)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    return float(json.loads(proc.stdout.strip().splitlines()[-1])["rss"])


async def _database_bytes(database: Path | str) -> int:
    if isinstance(database, Path):
        return (await asyncio.to_thread(database.stat)).st_size
    import asyncpg

    conn = await asyncpg.connect(database)
    try:
        return int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    finally:
        await conn.close()


async def footprint(entries: int) -> dict[str, dict[str, float]]:
    """Per store: resident memory a process adds for `entries` server entries (two fresh
    processes, an empty database and a full one), and the database's size on disk."""
    out: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-footprint-") as tmp, _postgres() as (create, reason):
        databases: list[tuple[str, Path | str, Path | str]] = [
            ("sqlite", Path(tmp) / "empty.sqlite3", Path(tmp) / "full.sqlite3")
        ]
        if create is not None:
            databases.append(("postgresql", create("bench_empty"), create("bench_full")))
        for name, empty, full in databases:
            async with await Store.open(empty):
                pass  # migrated, nothing else
            await _fill(full, entries)
            rss_empty = await asyncio.to_thread(_started_rss, empty)
            rss_full = await asyncio.to_thread(_started_rss, full)
            size_empty, size_full = await _database_bytes(empty), await _database_bytes(full)
            out[name] = {
                "entries": entries,
                "rss_added_mib": rss_full - rss_empty,
                "database_added_mib": (size_full - size_empty) / 2**20,
            }
        if create is None:
            print(f"postgresql skipped: {reason}", file=sys.stderr)
    return out


def main() -> int:
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m benchmarks.live", description=footprint.__doc__)
    parser.add_argument("--footprint", type=int, default=10_000, metavar="ENTRIES")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(footprint(args.footprint)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
