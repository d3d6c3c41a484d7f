"""Cold start: the wall time of `python -m bot ask --json ...` as a fresh process."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bot.settings import PROJECT_ROOT

QUESTION = "Who attended the meeting?"


@dataclass(frozen=True)
class ColdStart:
    wall_ms: list[float]
    #: The process's own CPU time (user + system), which other work on the machine does not add to.
    cpu_ms: list[float]
    #: Modules whose name starts with "discord" that the ask path imported (should be none).
    discord_modules: list[str]
    #: The slowest top-level imports, (module, cumulative microseconds), from -X importtime.
    slowest_imports: list[tuple[str, int]]


def ask_command(question: str = QUESTION, *, importtime: bool = False) -> list[str]:
    flags = ["-X", "importtime"] if importtime else []
    return [sys.executable, *flags, "-m", "bot", "ask", "--json", question]


def environment(database: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["BOT_DATABASE"] = str(database)
    env.pop("PYTHONPROFILEIMPORTTIME", None)
    return env


def _children_cpu_ms() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (usage.ru_utime + usage.ru_stime) * 1000.0


def run_once(
    database: Path, *, importtime: bool = False
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """One `ask` in a fresh interpreter; its wall and CPU time in ms, and the finished process."""
    cpu_start = _children_cpu_ms()
    start = time.perf_counter_ns()
    proc = subprocess.run(
        ask_command(importtime=importtime),
        cwd=PROJECT_ROOT,
        env=environment(database),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    elapsed = (time.perf_counter_ns() - start) / 1e6
    cpu = _children_cpu_ms() - cpu_start
    if proc.returncode != 0:
        raise RuntimeError(f"`python -m bot ask` failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
    answer = json.loads(proc.stdout)
    if not answer.get("answered"):
        raise RuntimeError(f"`python -m bot ask` did not answer {QUESTION!r}: {proc.stdout[:300]}")
    return elapsed, cpu, proc


def imported_modules(importtime_stderr: str) -> list[tuple[str, int, int]]:
    """(module, self us, cumulative us) for each line of `python -X importtime` output."""
    out: list[tuple[str, int, int]] = []
    for line in importtime_stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line
        out.append((parts[2].strip(), int(parts[0]), int(parts[1])))
    return out


def measure(database: Path, runs: int) -> ColdStart:
    # The first run creates and seeds the database: that is a first start, not a cold start.
    run_once(database)
    timed = [run_once(database)[:2] for _ in range(runs)]
    _, _, traced = run_once(database, importtime=True)
    modules = imported_modules(traced.stderr)
    discord = sorted({name for name, _, _ in modules if name.split(".")[0] == "discord"})
    top = [(name, cumulative) for name, _, cumulative in modules if "." not in name]
    top.sort(key=lambda pair: pair[1], reverse=True)
    return ColdStart([wall for wall, _ in timed], [cpu for _, cpu in timed], discord, top[:8])
