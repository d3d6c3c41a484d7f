"""`python -m benchmarks`: run the suite, print the table, write benchmarks/results/latest.json."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.suite import QUICK, Config, run_sync


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of sizes: {text!r}") from None
    if not sizes or any(size < 1 for size in sizes):
        raise argparse.ArgumentTypeError(f"sizes must be positive: {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Latency, memory and throughput of the matcher, the CLI and the Discord adapter.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes and few runs (a smoke test, not a benchmark)"
    )
    parser.add_argument("--sizes", type=_sizes, help="synthetic server sizes, e.g. 1000,10000")
    parser.add_argument("--repeat", type=int, help="passes over each warm question mix")
    parser.add_argument(
        "--first-sight",
        type=int,
        help="distinct questions timed once each (default 1200; the targets read these rows)",
    )
    parser.add_argument(
        "--output", type=Path, help="JSON file to write (default benchmarks/results/latest.json)"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the resident-memory processes")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-start processes")
    parser.add_argument("--no-e2e", action="store_true", help="skip the fake-Discord end-to-end phase")
    parser.add_argument("--no-live", action="store_true", help="skip the live-changes phase (both stores)")
    parser.add_argument(
        "--no-freeze",
        action="store_true",
        help="never gc.freeze() (the bot freezes after start-up; this shows what that is worth)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = QUICK if args.quick else Config()
    changes: dict[str, object] = {}
    if args.sizes:
        changes["sizes"] = args.sizes
    if args.repeat:
        changes["repeat"] = args.repeat
    if args.first_sight:
        changes["first_sight"] = args.first_sight
    if args.output:
        changes["output"] = args.output
    if args.no_memory:
        changes["memory"] = False
    if args.no_cold:
        changes["cold"] = False
    if args.no_e2e:
        changes["e2e"] = False
    if args.no_live:
        changes["live"] = False
    if args.no_freeze:
        changes["freeze"] = False
    config = dataclasses.replace(config, **changes)  # type: ignore[arg-type]

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = run_sync(config, log)
    report.write(config.output, config.largest)
    print(report.table(config.largest))
    print(f"\nwritten to {config.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
