"""Timing and memory primitives: repeated and first-sight runs, medians and 99th percentiles,
per-thread CPU time beside wall time, resident memory.

The garbage collector stays enabled while samples are taken: a real process collects too, and
its pauses belong in a 99th percentile (`GcWatch` counts the full collections among them).
"""

from __future__ import annotations

import gc
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

NS_PER_MS = 1_000_000
#: True while `time_each` takes samples (see `GcWatch`).
_timing = False


@dataclass(frozen=True)
class Summary:
    """Latency of repeated runs, in milliseconds."""

    n: int
    median: float
    p99: float
    mean: float
    max: float

    @classmethod
    def of(cls, samples_ns: Sequence[int]) -> Summary:
        if not samples_ns:
            raise ValueError("no samples")
        ordered = sorted(samples_ns)
        return cls(
            n=len(ordered),
            median=percentile(ordered, 50.0) / NS_PER_MS,
            p99=percentile(ordered, 99.0) / NS_PER_MS,
            mean=sum(ordered) / len(ordered) / NS_PER_MS,
            max=ordered[-1] / NS_PER_MS,
        )


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Linear-interpolated percentile of sorted values (the 'linear' method of numpy)."""
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * pct / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def time_each(fn: Callable[[T], object], items: Sequence[T], *, repeat: int, warmup: int = 1) -> list[int]:
    """Nanoseconds per call of `fn(item)`, every item `repeat` times, after `warmup` untimed passes."""
    for _ in range(warmup):
        for item in items:
            fn(item)
    global _timing
    clock = time.perf_counter_ns
    samples: list[int] = []
    _timing = True
    try:
        for _ in range(repeat):
            for item in items:
                start = clock()
                fn(item)
                samples.append(clock() - start)
    finally:
        _timing = False
    return samples


@dataclass(frozen=True)
class Timings:
    """Nanoseconds per call: wall time (`perf_counter_ns`) and the calling thread's CPU time
    (`thread_time_ns`), which other processes on a busy machine do not inflate."""

    wall_ns: list[int]
    cpu_ns: list[int]


def time_first_sight(fn: Callable[[T], object], items: Sequence[T]) -> Timings:
    """Each of `items` (distinct) once, with no warm-up pass over them: the latency of a question
    seen for the first time, which no memo of an earlier identical call can shorten.

    Warm the process up before, with other items (imports, lazily built tables).
    """
    if len(set(items)) != len(items):
        raise ValueError("first-sight items must be distinct")
    global _timing
    wall, cpu = time.perf_counter_ns, time.thread_time_ns
    walls: list[int] = []
    cpus: list[int] = []
    _timing = True
    try:
        for item in items:
            cpu_start = cpu()
            start = wall()
            fn(item)
            end = wall()
            cpus.append(cpu() - cpu_start)
            walls.append(end - start)
    finally:
        _timing = False
    return Timings(walls, cpus)


async def time_each_async(
    fn: Callable[[T], Awaitable[object]], items: Sequence[T], *, repeat: int, warmup: int = 1
) -> list[int]:
    """`time_each` for a coroutine function, awaited one call at a time."""
    for _ in range(warmup):
        for item in items:
            await fn(item)
    global _timing
    clock = time.perf_counter_ns
    samples: list[int] = []
    _timing = True
    try:
        for _ in range(repeat):
            for item in items:
                start = clock()
                await fn(item)
                samples.append(clock() - start)
    finally:
        _timing = False
    return samples


def _spin(_: object) -> int:
    total = 0
    for i in range(1_000_000):
        total += i
    return total


def calibration() -> Summary:
    """A fixed pure-Python loop (10^6 additions): how fast the machine is right now.

    Shared and virtual machines change speed; results of two runs compare only as these do.
    """
    return Summary.of(time_each(_spin, [None], repeat=5, warmup=1))


class GcWatch:
    """The garbage collector's full (generation 2) collections that start while latency samples
    are being taken (`time_each`), and their pauses: with a large index in memory, one is a
    latency spike of tens of milliseconds that the samples then include."""

    def __init__(self) -> None:
        self.pauses_ms: list[float] = []
        self._started = 0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info.get("generation") != 2 or not (_timing or self._started):
            return
        if phase == "start":
            self._started = time.perf_counter_ns()
        elif self._started:
            self.pauses_ms.append((time.perf_counter_ns() - self._started) / NS_PER_MS)
            self._started = 0

    def __enter__(self) -> GcWatch:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def settle() -> None:
    """Between phases: collect garbage so one phase's leftovers are not collected in the next."""
    gc.collect()


def rss_mb() -> float:
    """Resident set size of this process from /proc/self/status (VmRSS), in MiB."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    import resource  # not Linux: peak, not current, resident size

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def load_average() -> tuple[float, float, float] | None:
    """The 1/5/15-minute load average, where the platform has one (other work skews timings)."""
    try:
        import os

        return os.getloadavg()
    except (AttributeError, OSError):
        return None
