"""Benchmark results: rows of measurements, the issue's targets checked against them, a table."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.measure import Summary


@dataclass
class Row:
    """One measured quantity: a latency (median/p99 in ms) or a single value with a unit."""

    key: str  # stable identifier, e.g. "answer.base"
    metric: str
    scope: str
    n: int = 0
    median: float | None = None  # ms
    p99: float | None = None  # ms
    value: float | None = None  # for non-latency rows
    unit: str = "ms"
    note: str = ""
    #: Share of the timed questions that have an answer whose first result was right (0..1),
    #: where the run knows the answers; None otherwise.
    top1: float | None = None

    @classmethod
    def latency(
        cls, key: str, metric: str, scope: str, summary: Summary, note: str = "", top1: float | None = None
    ) -> Row:
        return cls(key, metric, scope, summary.n, summary.median, summary.p99, None, "ms", note, top1)

    @classmethod
    def single(cls, key: str, metric: str, scope: str, value: float, unit: str, note: str = "") -> Row:
        return cls(key, metric, scope, 1, None, None, value, unit, note)


@dataclass(frozen=True)
class Target:
    """A limit from the issue: `read(rows)` gives the measured value (None when not measured)."""

    name: str
    limit: float
    unit: str
    read: Callable[[dict[str, Row]], float | None]
    at_least: bool = False  # the value must reach the limit (throughput, speed-up) rather than stay under

    def check(self, rows: dict[str, Row]) -> dict[str, Any]:
        try:
            value = self.read(rows)
        except KeyError:
            value = None
        met = None if value is None else (value >= self.limit if self.at_least else value <= self.limit)
        return {
            "target": self.name,
            "limit": self.limit,
            "unit": self.unit,
            "at_least": self.at_least,
            "value": value,
            "met": met,
        }


def _p50(key: str) -> Callable[[dict[str, Row]], float | None]:
    return lambda rows: rows[key].median


def _p99(key: str) -> Callable[[dict[str, Row]], float | None]:
    return lambda rows: rows[key].p99


def _value(key: str) -> Callable[[dict[str, Row]], float | None]:
    return lambda rows: rows[key].value


def targets(largest: int) -> list[Target]:
    """The issue's targets; "10,000 entries" rows are read at the largest server size run.

    Latency targets are checked on wall time and, so that other work on a shared machine does
    not decide the verdict, on the calling thread's CPU time too."""
    big = f"server{largest}"
    return [
        Target("real KB: answer p50", 0.5, "ms", _p50("answer.base")),
        Target("real KB: answer p50 (thread CPU)", 0.5, "ms", _p50("answer_cpu.base")),
        Target("real KB: answer p99", 2.0, "ms", _p99("answer.base")),
        Target("real KB: answer p99 (thread CPU)", 2.0, "ms", _p99("answer_cpu.base")),
        Target("real KB: autocomplete p99", 2.0, "ms", _p99("autocomplete.base")),
        Target("real KB: autocomplete p99 (thread CPU)", 2.0, "ms", _p99("autocomplete_cpu.base")),
        Target(f"{largest:,} entries: answer p99", 10.0, "ms", _p99(f"answer.{big}")),
        Target(f"{largest:,} entries: answer p99 (thread CPU)", 10.0, "ms", _p99(f"answer_cpu.{big}")),
        Target(
            f"{largest:,} entries: speed-up vs floor (median)",
            4.0,
            "x",
            _value(f"speedup_median_floor.{big}"),
            at_least=True,
        ),
        Target(
            f"{largest:,} entries: speed-up vs floor (p99)",
            4.0,
            "x",
            _value(f"speedup_p99_floor.{big}"),
            at_least=True,
        ),
        Target(f"{largest:,} entries: autocomplete p99", 5.0, "ms", _p99(f"autocomplete.{big}")),
        Target(
            f"{largest:,} entries: autocomplete p99 (thread CPU)", 5.0, "ms", _p99(f"autocomplete_cpu.{big}")
        ),
        Target(f"{largest:,} entries: update one entry p99", 5.0, "ms", _p99(f"update.{big}")),
        Target("RSS per 10,000 entries (streamed)", 60.0, "MiB", _value("rss.streamed")),
        Target("RSS per 10,000 entries (loaded at once)", 60.0, "MiB", _value("rss.at_once")),
        Target("cold start: python -m bot ask (median)", 1000.0, "ms", _p50("cold.ask")),
        Target("cold start: python -m bot ask (median, process CPU)", 1000.0, "ms", _p50("cold.ask_cpu")),
        Target("end to end: p50", 5.0, "ms", _p50("e2e.sequential")),
        Target("end to end: p99", 20.0, "ms", _p99("e2e.sequential")),
        Target(
            "end to end: interactions/s, 50 in flight",
            300.0,
            "/s",
            _value("e2e.throughput"),
            at_least=True,
        ),
    ]


@dataclass
class Report:
    meta: dict[str, Any] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        return row

    def by_key(self) -> dict[str, Row]:
        return {row.key: row for row in self.rows}

    def checks(self, largest: int) -> list[dict[str, Any]]:
        rows = self.by_key()
        return [target.check(rows) for target in targets(largest)]

    def to_json(self, largest: int) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "rows": [_clean(asdict(row)) for row in self.rows],
            "targets": self.checks(largest),
        }

    def write(self, path: Path, largest: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(largest), indent=2) + "\n", encoding="utf-8")

    def table(self, largest: int) -> str:
        header = ("metric", "scope", "n", "median", "p99", "top-1", "value", "note")
        body = [
            (
                row.metric,
                row.scope,
                str(row.n),
                _ms(row.median),
                _ms(row.p99),
                "" if row.top1 is None else f"{row.top1:.3f}",
                _num(row.value, row.unit),
                row.note,
            )
            for row in self.rows
        ]
        lines = _columns([header, *body], right={2, 3, 4, 5, 6})
        lines.append("")
        checks = [
            (c["target"], _num(c["value"], c["unit"]), _limit(c), _verdict(c["met"]))
            for c in self.checks(largest)
        ]
        lines.extend(_columns([("target", "measured", "limit", ""), *checks], right={1}))
        return "\n".join(lines)


def _clean(value: Any) -> Any:
    """JSON has no NaN or infinity: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    return value


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.3f} ms"


def _num(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "x":
        return f"{value:.1f}x" if value >= 10 else f"{value:.2f}x"
    if unit == "ms":
        return f"{value:.3f} ms"
    if unit in {"/s"}:
        return f"{value:,.0f}{unit}"
    if not unit:
        return f"{value:,.0f}"
    return f"{value:,.2f} {unit}"


def _limit(check: dict[str, Any]) -> str:
    sign = ">=" if check["at_least"] else "<="
    return f"{sign} {_num(check['limit'], check['unit'])}"


def _verdict(met: bool | None) -> str:
    return "not measured" if met is None else ("met" if met else "MISSED")


def _columns(rows: list[tuple[str, ...]], right: set[int]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    out = []
    for at, row in enumerate(rows):
        cells = [
            cell.rjust(width) if i in right and at else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        out.append("  ".join(cells).rstrip())
        if at == 0:
            out.append("  ".join("-" * w for w in widths))
    return out
