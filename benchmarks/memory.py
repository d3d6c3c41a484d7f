"""Resident memory a server's entries add, measured in a fresh process.

`python -m benchmarks.memory --entries 10000` prints one JSON object. Entries are either
streamed (made and indexed one at a time, as moderators add them) or loaded at once (all
validated models alive together while indexing, as at start-up from the store): the second
leaves the allocator more fragmented, so both are reported.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence

from benchmarks.measure import rss_mb, settle
from benchmarks.synthetic import iter_entries
from bot.core.answers import AnswerService
from bot.core.loader import load_knowledge
from bot.settings import PROJECT_ROOT

GUILD = 424_242


def measure(entries: int, *, at_once: bool, seed: int = 10_000) -> dict[str, float]:
    kb = load_knowledge(PROJECT_ROOT / "knowledge")
    service = AnswerService(kb)
    settle()
    before = rss_mb()
    if at_once:
        made = [item.entry for item in iter_entries(entries, seed=seed, kb=kb)]
        for entry in made:
            service.upsert_entry(GUILD, entry)
        del made
    else:
        for item in iter_entries(entries, seed=seed, kb=kb):
            service.upsert_entry(GUILD, item.entry)
    settle()
    after = rss_mb()
    return {
        "entries": entries,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "rss_added_mb": after - before,
    }


def in_subprocess(entries: int, *, at_once: bool) -> dict[str, float]:
    """`measure` in a fresh interpreter, so earlier phases' allocations do not blur it."""
    cmd = [sys.executable, "-m", "benchmarks.memory", "--entries", str(entries)]
    if at_once:
        cmd.append("--at-once")
    proc = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600, check=True)
    result: dict[str, float] = json.loads(proc.stdout)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory", description=__doc__)
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--at-once", action="store_true", help="validate all entries before indexing")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.entries, at_once=args.at_once)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
