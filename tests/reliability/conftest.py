"""Reliability evidence: a session-wide figures recorder and the one-line summary at the end.

Every test in this package adds what it measured to `reliability_metrics` (fuzz examples that
really ran, kills and lost writes, interaction latencies, faults and permission cases), and
`pytest_terminal_summary` prints one line with all of it, e.g.::

    reliability: fuzz examples 2400; kills survived 50/50, writes lost 0; interactions answered
    1000/1000, over deadline 0, p50 3.1 ms, p99 12.4 ms; faults survived 7/7; permission cases
    passed 44/44; seed 20230111

Figures are recorded as they happen, so a failing test shows in the line too (e.g. "49/50").
Randomness (hypothesis, kill delays, load mix) derives from one seed: `RELIABILITY_SEED`
(environment), default 20230111; the seed is part of the summary line.
"""

from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

DEFAULT_SEED = 20230111


def _seed_from_env() -> int:
    raw = os.environ.get("RELIABILITY_SEED", "").strip()
    return int(raw) if raw else DEFAULT_SEED


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (pct in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class ReliabilityMetrics:
    seed: int
    tests_run: int = 0
    fuzz_examples: int = 0
    kills: int = 0
    kills_survived: int = 0
    writes_acked: int = 0
    writes_lost: int = 0
    interactions: int = 0
    interactions_answered: int = 0
    over_deadline: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    faults: int = 0
    faults_survived: int = 0
    permission_cases: int = 0
    permission_passed: int = 0
    fault_names: list[str] = field(default_factory=list)
    #: Fault class -> [injected, survived], e.g. "storage" -> [14, 14].
    fault_classes: dict[str, list[int]] = field(default_factory=dict)
    #: Fuzz examples through `Assistant.ask` (question log included) and YAML structures.
    ask_fuzz_examples: int = 0
    yaml_fuzz_examples: int = 0
    #: Questions asked under faults that got no answer (must stay 0), and log entries the
    #: faults made the bot drop (allowed: counted and warned about, never an answer lost).
    answers_lost: int = 0
    log_dropped: int = 0
    #: Resident memory growth over the memory test's questions (None: not run).
    memory_growth_mib: float | None = None
    memory_questions: int = 0
    #: Permission replays (buttons, forms, across servers) and how many were refused as they must.
    replays: int = 0
    replays_refused: int = 0

    @contextlib.contextmanager
    def fault(self, name: str, kind: str = "other") -> Iterator[None]:
        """Count one injected fault of class `kind`; it counts as survived only if the block finishes."""
        self.faults += 1
        self.fault_names.append(name)
        counts = self.fault_classes.setdefault(kind, [0, 0])
        counts[0] += 1
        yield
        self.faults_survived += 1
        counts[1] += 1

    @contextlib.contextmanager
    def replay(self) -> Iterator[None]:
        self.replays += 1
        yield
        self.replays_refused += 1

    @contextlib.contextmanager
    def permission_case(self) -> Iterator[None]:
        self.permission_cases += 1
        yield
        self.permission_passed += 1

    def __repr__(self) -> str:  # short, for hypothesis' falsifying-example reports
        return "ReliabilityMetrics(...)"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # hypothesis' pretty printer
        printer.text(repr(self))

    def summary_line(self) -> str:
        if self.latencies_ms:
            p50 = f"{percentile(self.latencies_ms, 50):.1f} ms"
            p99 = f"{percentile(self.latencies_ms, 99):.1f} ms"
        else:
            p50 = p99 = "n/a"
        classes = ", ".join(
            f"{kind} {survived}/{injected}"
            for kind, (injected, survived) in sorted(self.fault_classes.items())
        )
        memory = (
            "n/a"
            if self.memory_growth_mib is None
            else f"+{self.memory_growth_mib:.1f} MiB over {self.memory_questions} questions"
        )
        return (
            f"reliability: fuzz examples {self.fuzz_examples} "
            f"(+ {self.ask_fuzz_examples} through Assistant.ask and its log, "
            f"{self.yaml_fuzz_examples} YAML structures); "
            f"kills survived {self.kills_survived}/{self.kills}, writes lost {self.writes_lost} "
            f"(of {self.writes_acked} acknowledged); "
            f"interactions answered {self.interactions_answered}/{self.interactions} "
            f"(timed to the final answer), "
            f"over deadline {self.over_deadline}, p50 {p50}, p99 {p99}; "
            f"faults survived {self.faults_survived}/{self.faults}"
            f"{f' ({classes})' if classes else ''}, answers lost {self.answers_lost}, "
            f"log entries dropped {self.log_dropped} (counted); "
            f"memory {memory}; "
            f"permission cases passed {self.permission_passed}/{self.permission_cases}, "
            f"replays refused {self.replays_refused}/{self.replays}; "
            f"seed {self.seed}"
        )


METRICS = ReliabilityMetrics(seed=_seed_from_env())


@pytest.fixture(scope="session")
def reliability_metrics() -> ReliabilityMetrics:
    return METRICS


@pytest.fixture(scope="session")
def reliability_seed() -> int:
    return METRICS.seed


@pytest.fixture(autouse=True)
def _count_reliability_test() -> None:
    METRICS.tests_run += 1


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if METRICS.tests_run:
        terminalreporter.write_line(METRICS.summary_line())
