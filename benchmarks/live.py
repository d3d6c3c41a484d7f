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
    try:
        server.psql("CREATE DATABASE bench;")
        yield str(server.get_uri("bench")), ""
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
    with _postgres() as (url, reason):
        if url is None:
            log(f"live changes on PostgreSQL: skipped ({reason})")
            report.add(
                Row.single("live.delay.postgresql", "change to live", "postgresql store", 0.0, "", reason)
            )
            return
        log(f"live changes on PostgreSQL: {len(questions)} asks, {changes} changes ...")
        await _one_store(report, "postgresql", url, questions, changes)
