"""Crash safety: a moderator's acknowledged write survives SIGKILL at any moment.

A child process (`writer.py`) makes moderator writes through `bot.core.store.Store` and prints
an ACK after each write's await returned. The parent kills it with SIGKILL 20-300 ms after it
is ready (seeded random delays), then checks the file: `PRAGMA integrity_check` is "ok", the
store opens (and migrates) again, and every acknowledged (id, version) is there with the content
that was acknowledged. At most one write per child may be committed but unacknowledged (killed
between COMMIT and the ACK line); anything more would be a phantom write.

One database is reused across all kills, so it grows and every child continues from the state
the previous kill left (updates and removals of older entries), as a real bot restarting would.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.core.store import Store
from bot.settings import PROJECT_ROOT
from tests.reliability.conftest import ReliabilityMetrics

pytestmark = [
    pytest.mark.reliability,
    pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX"),
]

WRITER = Path(__file__).with_name("writer.py")
GUILD = 1_100_000_000_000_000_100
KILLS = int(os.environ.get("RELIABILITY_KILLS", "50"))
FIRST_ACTOR = 1000


@dataclass
class Acked:
    #: (id, version) -> acknowledged answer (None: the version is a removal).
    versions: dict[tuple[str, int], str | None] = field(default_factory=dict)

    def latest(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for entry_id, version in self.versions:
            out[entry_id] = max(version, out.get(entry_id, 0))
        return out


async def run_and_kill(db: Path, actor: int, delay: float) -> tuple[list[dict[str, object]], int]:
    """Start a writer, SIGKILL it `delay` s after READY; return its ACKs and exit status."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(WRITER),
        str(db),
        str(actor),
        str(actor),
        cwd=PROJECT_ROOT,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    try:
        ready = await asyncio.wait_for(child.stdout.readline(), timeout=60)
        if ready != b"READY\n":
            err = await child.stderr.read()
            raise AssertionError(f"writer did not start: {ready!r} {err.decode()[-2000:]}")
        await asyncio.sleep(delay)
    finally:
        if child.returncode is None:
            child.send_signal(signal.SIGKILL)
    out, err = await child.communicate()
    acks = []
    for line in out.decode().splitlines(keepends=True):
        if line.startswith("ACK ") and line.endswith("\n"):  # a line cut by the kill was never acked
            acks.append(json.loads(line[4:]))
    assert child.returncode == -signal.SIGKILL, (child.returncode, err.decode()[-2000:])
    return acks, child.returncode


def check_file(db: Path) -> tuple[str, list[tuple[str, int, str | None, int | None]]]:
    """integrity_check result and every version row (id, version, answer or None, actor)."""
    with sqlite3.connect(db) as raw:
        integrity = raw.execute("PRAGMA integrity_check").fetchone()[0]
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
        rows = raw.execute(
            "SELECT id, version, data, actor_id FROM entry_versions WHERE scope = ?", (GUILD,)
        ).fetchall()
    versions = [(r[0], r[1], None if r[2] is None else json.loads(r[2])["answer"], r[3]) for r in rows]
    return integrity, versions


async def verify(db: Path, acked: Acked, actor: int, acks_now: int) -> tuple[list[str], int]:
    """Problems with the database after a kill, and how many acknowledged writes are lost."""
    integrity, rows = check_file(db)
    stored = {(entry_id, version): answer for entry_id, version, answer, _ in rows}
    lost = {key for key, answer in acked.versions.items() if stored.get(key, "<missing>") != answer}
    unacked_by_this_child = sum(1 for *_, a in rows if a == actor) - acks_now
    async with await Store.open(db) as store:  # reopens (and would migrate) after the crash
        for entry_id, version in acked.latest().items():
            entry = await store.get_entry(GUILD, entry_id, include_deleted=True)
            if entry is None or entry.version < version:
                lost.add((entry_id, version))
    problems = []
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    if lost:
        problems.append(f"lost acknowledged writes: {sorted(lost)[:5]}")
    if unacked_by_this_child not in (0, 1):
        problems.append(f"{unacked_by_this_child} writes committed without an ACK")
    return problems, len(lost)


def record(acked: Acked, acks: list[dict[str, object]]) -> None:
    for ack in acks:
        answer = ack["answer"]
        acked.versions[(str(ack["id"]), int(str(ack["version"])))] = None if answer is None else str(answer)


async def test_acknowledged_writes_survive_sigkill_at_random_moments(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics, reliability_seed: int
) -> None:
    db = tmp_path / "crash.sqlite3"
    rng = random.Random(reliability_seed)
    acked = Acked()
    lost_total = 0
    failures: list[str] = []
    print(f"crash safety: {KILLS} kills, seed {reliability_seed}, database {db}")
    for n in range(KILLS):
        actor = FIRST_ACTOR + n
        delay = rng.uniform(0.020, 0.300)
        acks, _ = await run_and_kill(db, actor, delay)
        reliability_metrics.kills += 1
        record(acked, acks)
        reliability_metrics.writes_acked += len(acks)
        problems, lost = await verify(db, acked, actor, len(acks))
        lost_total += lost
        reliability_metrics.writes_lost += lost
        if problems:
            failures.append(f"kill {n} after {delay * 1000:.0f} ms ({len(acks)} acks): {'; '.join(problems)}")
        else:
            reliability_metrics.kills_survived += 1
    print(
        f"crash safety: {KILLS - len(failures)}/{KILLS} kills survived, {len(acked.versions)} writes "
        f"acknowledged, {lost_total} lost"
    )
    assert not failures, "\n".join(failures)
    assert lost_total == 0
    assert len(acked.versions) >= KILLS, "the writers barely wrote: the kills prove little"


async def test_the_crash_check_detects_lost_and_phantom_writes(tmp_path: Path) -> None:
    """The verification above is not a tautology: a lost, altered or unacknowledged write fails it."""
    db = tmp_path / "check.sqlite3"
    acks, _ = await run_and_kill(db, FIRST_ACTOR, 0.15)
    assert acks, "the writer acknowledged nothing in 150 ms"
    acked = Acked()
    record(acked, acks)
    assert await verify(db, acked, FIRST_ACTOR, len(acks)) == ([], 0)
    # A write the child "acknowledged" that the file does not hold is reported lost.
    ghost = Acked(dict(acked.versions))
    ghost.versions[("a1000-1", 999)] = "a1000-1 v999"
    problems, lost = await verify(db, ghost, FIRST_ACTOR, len(acks))
    assert lost == 1 and "lost acknowledged writes" in problems[0]
    # Content that differs from what was acknowledged counts as lost too.
    changed = Acked(
        {key: f"{answer} (changed)" if answer else answer for key, answer in acked.versions.items()}
    )
    assert (await verify(db, changed, FIRST_ACTOR, len(acks)))[1] >= 1
    # Two more committed writes than acknowledged ones: phantom writes.
    problems, _ = await verify(db, acked, FIRST_ACTOR, len(acks) - 2)
    assert any("without an ACK" in p for p in problems)
