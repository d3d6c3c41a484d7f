"""The benchmark suite: every measurement of the issues' performance targets, in one process run.

Phases:
1. the curated base: knowledge load (libyaml and pure-Python YAML), index build, answer, the
   peers, autocomplete, `Assistant.ask`;
2. synthetic servers (streamed upserts), smallest first: the same rows, then updates of one entry;
   then the smallest server again while the largest exists (cost isolation between servers);
3. resident memory per 10,000 entries, in fresh processes (streamed and loaded at once);
4. cold start of `python -m bot ask --json`, in fresh processes;
5. end to end over the fake Discord, with the real matcher and with a canned answer;
6. live changes on both stores (`benchmarks.live`).

Answer latency is first-sight: over `Config.first_sight` questions, distinct after normalisation
across the whole run and each asked once (the bot's memo of tokenised text is emptied before
each timed pass), so no memo of an earlier identical call shortens it. Every question knows the
entries that answer it, so each latency row of the engine and of its peers (`benchmarks.peers`:
rapidfuzz extractOne and bm25s BM25, over the same documents, normalisation inside the timer)
has its top-1 accuracy beside it. Wall time and the thread's CPU time of each call are both
reported. The warm figure (a small mix asked `repeat` times) stays as an informative row.

The process is prepared as `python -m bot run` prepares the bot: the word list preloaded, then
`gc.freeze()` after start-up (and here after each server's bulk build, as after an import); the
collector stays enabled while samples are taken and no collection is forced before a timed
phase, so the collections a busy bot would run land in the samples too (`GcWatch` counts the
full ones).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import gc
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks import coldstart, e2e, live, memory
from benchmarks.measure import (
    GcWatch,
    Summary,
    Timings,
    calibration,
    load_average,
    settle,
    time_each,
    time_each_async,
    time_first_sight,
)
from benchmarks.peers import build_peers
from benchmarks.report import Report, Row
from benchmarks.synthetic import (
    WARMUP,
    Probe,
    Synthetic,
    aimed_probes,
    aimed_questions,
    base_mix,
    first_sight_probes,
    iter_entries,
    typing_prefixes,
)
from bot.core import yamlsafe
from bot.core.answers import AnswerService
from bot.core.assistant import Assistant
from bot.core.english import preload as preload_english
from bot.core.loader import load_knowledge
from bot.core.models import Entry, Scope
from bot.core.text import cased_tokens, normalize_query
from bot.settings import PROJECT_ROOT, Settings

RESULTS = Path(__file__).resolve().parent / "results"
#: Guild ids of the synthetic servers (any ids: they only need to differ).
FIRST_GUILD = 900_000_000_000_000_000
#: Entries of each server that the warm mix's questions are aimed at, those that first-sight
#: questions are aimed at (the rest of a server's first-sight questions are about the base, and
#: differ from the base's own), and the seed of everything random.
AIMED = 120
AIMED_FIRST_SIGHT = 1_000
SEED = 20230111


@dataclass(frozen=True)
class Config:
    sizes: tuple[int, ...] = (1_000, 10_000)
    repeat: int = 5  # passes over each warm question mix
    first_sight: int = 1_200  # distinct questions (and typed prefixes) timed once each
    floor_questions: int = 300  # of those, how many the extractOne floor is timed on (tens of ms each)
    updates: int = 200  # single-entry updates timed per server
    memory_entries: int = 10_000
    cold_runs: int = 5
    e2e_sequential: int = 300
    e2e_concurrent: int = 1_000
    concurrency: int = 50
    memory: bool = True
    cold: bool = True
    e2e: bool = True
    live: bool = True  # answer latency and change-to-live delay on SQLite and PostgreSQL
    live_changes: int = 30
    freeze: bool = True  # gc.freeze() after start-up and bulk builds, as the bot does
    output: Path = field(default=RESULTS / "latest.json")

    @property
    def largest(self) -> int:
        return max(self.sizes, default=0)


QUICK = Config(
    sizes=(100, 300),
    repeat=1,
    first_sight=200,
    floor_questions=50,
    updates=10,
    memory_entries=300,
    cold_runs=1,
    e2e_sequential=10,
    e2e_concurrent=40,
    concurrency=10,
    live_changes=3,
)


async def run(config: Config, log: Callable[[str], None] = print) -> Report:
    report = Report(meta=_meta(config))
    report.meta["load_average_start"] = load_average()
    report.add(
        Row.latency("calibration.start", "calibration: 10^6-step Python loop", "at start", calibration())
    )
    kb_dir = PROJECT_ROOT / "knowledge"
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        workdir = Path(tmp)
        log("loading the knowledge base and starting the assistant ...")
        loads = time_each(lambda _: load_knowledge(kb_dir), [None], repeat=3, warmup=0)
        parser = "libyaml" if yamlsafe._FastLoader is not None else "pure-Python YAML"
        report.add(
            Row.latency(
                "load.kb", "knowledge base: load + validate", f"curated files, {parser}", Summary.of(loads)
            )
        )
        if yamlsafe._FastLoader is not None:
            # The same load with the pure-Python parser (a private switch: what libyaml saves).
            fast, yamlsafe._FastLoader = yamlsafe._FastLoader, None
            try:
                slow = time_each(lambda _: load_knowledge(kb_dir), [None], repeat=3, warmup=0)
            finally:
                yamlsafe._FastLoader = fast
            report.add(
                Row.latency(
                    "load.kb_pure",
                    "knowledge base: load + validate",
                    "curated files, pure-Python YAML",
                    Summary.of(slow),
                    note="informative: without libyaml",
                )
            )
        settings = Settings(database=workdir / "bench.sqlite3", cooldown_rate=1_000_000)
        assistant = await Assistant.start(settings)
        _prepare(config, assistant.service)
        try:
            with GcWatch() as watch:
                await _micro(config, report, assistant, log)
        finally:
            await assistant.close()
        pauses = watch.pauses_ms
        report.add(
            Row.single(
                "gc.full",
                "full gc collections during in-process samples",
                "automatic, not between phases",
                float(len(pauses)),
                "",
                note=f"longest {max(pauses):.1f} ms" if pauses else "none",
            )
        )
        settle()
        if config.memory:
            log(f"resident memory of {config.memory_entries:,} entries, in fresh processes ...")
            _memory(config, report)
        if config.cold:
            log("cold start of `python -m bot ask --json` ...")
            _cold(config, report, workdir / "cold.sqlite3")
        if config.e2e:
            log("end to end over the fake Discord ...")
            await _e2e(config, report, workdir)
    if config.live:
        await live.run(report, base_mix(SEED), config.live_changes, log)
    report.add(Row.latency("calibration.end", "calibration: 10^6-step Python loop", "at end", calibration()))
    report.meta["load_average_end"] = load_average()
    return report


# ---- in-process micro-benchmarks ------------------------------------------------------------
def _prepare(config: Config, service: AnswerService) -> None:
    """What `python -m bot run` does between start-up and its first answer: preload the word
    list, then freeze the long-lived objects out of the collector's full passes. A few warm-up
    questions (never among the timed ones) build what is built lazily on the first answer."""
    preload_english()
    for question in WARMUP:
        service.answer(question)
        service.autocomplete(question)
    if config.freeze:
        gc.freeze()


async def _micro(config: Config, report: Report, assistant: Assistant, log: Callable[[str], None]) -> None:
    service = assistant.service
    kb = assistant.kb
    builds = time_each(
        lambda _: AnswerService(kb, answer_threshold=service.answer_threshold), [None], repeat=5, warmup=1
    )
    base_docs = len(service.engine.documents(None))
    base_label = f"base ({base_docs} docs)"
    report.add(Row.latency("build.base", "index build: curated base", base_label, Summary.of(builds)))

    questions = base_mix(SEED)
    # The base's first-sight questions come first; each server gets its own share of the rest.
    pool = first_sight_probes(kb, seed=SEED)
    if len(pool) < config.first_sight:
        raise ValueError(f"only {len(pool)} distinct first-sight questions, {config.first_sight} wanted")
    first, rest = pool[: config.first_sight], pool[config.first_sight :]
    asked = {normalize_query(p.question) for p in first}
    log(f"curated base: {len(first)} first-sight questions, {len(questions)} x {config.repeat} warm ...")
    await _scope_rows(config, report, assistant, None, "base", base_label, questions, first)

    servers: list[tuple[int, int, str, list[str]]] = []  # size, guild, label, questions
    share = len(rest) // max(1, len(config.sizes))
    for n, size in enumerate(sorted(config.sizes)):
        guild = FIRST_GUILD + n
        label = f"server {size:,} + base"
        log(f"server of {size:,} entries: building ...")
        targets, first_targets = _build_server(report, service, guild, size, label)
        if config.freeze:
            # As after an import: the server's entries are long-lived, like those of start-up.
            gc.collect(1)
            gc.freeze()
        mix = [*questions, *aimed_questions(targets, seed=SEED + size)]
        own = aimed_probes(first_targets, seed=SEED + size + 1)
        others = rest[n * share : (n + 1) * share]
        server_first = _unasked([*own, *others], asked, max(config.first_sight, len(own)))
        random.Random(SEED + size).shuffle(server_first)
        servers.append((size, guild, label, mix))
        log(
            f"server of {size:,} entries: {len(server_first)} first-sight questions, "
            f"{len(mix)} x {config.repeat} warm ..."
        )
        await _scope_rows(config, report, assistant, guild, f"server{size}", label, mix, server_first)
        _updates(config, report, service, guild, size, label, mix)

    if len(servers) > 1:
        log("cost isolation: the smallest server, with and without the largest one ...")
        _isolation(config, report, service, servers[0], servers[-1])


def _unasked(probes: Sequence[Probe], asked: set[str], count: int) -> list[Probe]:
    """Up to `count` of `probes`, in order, whose question (normalised) nothing asked before;
    `asked` then holds them too."""
    out: list[Probe] = []
    for probe in probes:
        key = normalize_query(probe.question)
        if len(out) < count and key and key not in asked:
            asked.add(key)
            out.append(probe)
    return out


def _isolation(
    config: Config,
    report: Report,
    service: AnswerService,
    small: tuple[int, int, str, list[str]],
    big: tuple[int, int, str, list[str]],
) -> None:
    """The small server's questions with the big server's entries present and absent.

    Rounds alternate (absent, present, absent, ...) so that a change in the machine's speed
    during the run weighs on both alike. "Absent" detaches the big server's index from the
    engine (a private attribute: the benchmark's only reach into internals) and re-attaches
    the same object, so nothing is rebuilt between rounds.
    """
    size, guild, label, mix = small
    big_size, big_guild = big[0], big[1]
    engine = service.engine
    index = engine._scopes[big_guild]
    alone: list[int] = []
    crowded: list[int] = []
    for round_ in range(max(2, config.repeat)):
        del engine._scopes[big_guild]
        engine._changed(big_guild)
        alone += time_each(lambda q: service.answer(q, guild), mix, repeat=1, warmup=0 if round_ else 1)
        engine._scopes[big_guild] = index
        engine._changed(big_guild)
        crowded += time_each(lambda q: service.answer(q, guild), mix, repeat=1, warmup=0 if round_ else 1)
    without, with_big = Summary.of(alone), Summary.of(crowded)
    report.add(Row.latency(f"answer.server{size}.alone", "answer, no other server", label, without))
    report.add(
        Row.latency(
            f"answer.server{size}.crowded",
            "answer, another server has entries",
            f"{label} (+ {big_size:,} elsewhere)",
            with_big,
        )
    )
    report.add(
        Row.single(
            f"isolation.server{size}",
            "isolation: with / without (median)",
            label,
            with_big.median / without.median,
            "x",
            note="~1.0: the cost depends on the own server only",
        )
    )


async def _scope_rows(
    config: Config,
    report: Report,
    assistant: Assistant,
    scope: Scope,
    key: str,
    label: str,
    questions: Sequence[str],
    first: Sequence[Probe],
) -> None:
    """The rows of one scope: `first` are distinct questions, each timed once, for the engine and
    for each peer (the answer targets read these); `questions` is the small warm mix asked
    `repeat` times."""
    service = assistant.service

    def answer(question: str) -> str | None:
        result = service.answer(question, scope)
        return result.entry_id if result.answered else None

    seen, picked = _first_sight_picks(answer, first)
    out_of_scope = [p is None for p, probe in zip(picked, first, strict=True) if not probe.expected]
    abstained = f"; abstained on {sum(out_of_scope)}/{len(out_of_scope)} out of scope" if out_of_scope else ""
    _first_sight_rows(
        report,
        f"answer.{key}",
        "answer: AnswerService.answer",
        label,
        seen,
        top1(first, picked),
        note=f"distinct, each once{abstained}",
    )
    warm = Summary.of(time_each(lambda q: service.answer(q, scope), questions, repeat=config.repeat))
    report.add(
        Row.latency(
            f"answer_warm.{key}",
            "answer, warm mix (asked repeatedly)",
            label,
            warm,
            note=f"{len(questions)} questions x {config.repeat}; informative",
        )
    )

    for peer in build_peers(service.engine.documents(scope)):
        # The extractOne scan takes tens of ms a question at 10,000 entries: a prefix of the same
        # questions. The engine's figures on exactly those questions are the comparison.
        sample = first[: config.floor_questions] if peer.key == "floor" else first
        for question in WARMUP:
            peer.best(question)
        timed, chosen = _first_sight_picks(peer.best, sample)
        _first_sight_rows(
            report, f"{peer.key}.{key}", peer.label, label, timed, top1(sample, chosen), note=peer.describe()
        )
        ours = Timings(seen.wall_ns[: len(sample)], seen.cpu_ns[: len(sample)])
        ours_top1 = top1(sample, picked[: len(sample)])
        for stat in ("median", "p99"):
            wall = getattr(Summary.of(timed.wall_ns), stat) / getattr(Summary.of(ours.wall_ns), stat)
            cpu = getattr(Summary.of(timed.cpu_ns), stat) / getattr(Summary.of(ours.cpu_ns), stat)
            report.add(
                Row.single(
                    f"speedup_{stat}_{peer.key}.{key}",
                    f"speed-up vs {peer.key} ({stat}, wall)",
                    label,
                    wall,
                    "x",
                    note=(
                        f"same {len(sample)} questions, first sight; thread CPU {cpu:.1f}x; "
                        f"top-1 {ours_top1:.3f} vs {top1(sample, chosen):.3f}"
                    ),
                )
            )

    prefixes = list(
        dict.fromkeys(typing_prefixes([p.question for p in first], seed=SEED + len(first), count=len(first)))
    )
    typed = time_first_sight(lambda t: service.autocomplete(t, scope), prefixes)
    _first_sight_rows(report, f"autocomplete.{key}", "autocomplete: AnswerService.autocomplete", label, typed)

    asked = await time_each_async(
        lambda q: assistant.ask(q, scope, channel_id=1, user_id=1), questions, repeat=1
    )
    report.add(
        Row.latency(
            f"ask.{key}", "Assistant.ask (+ SQLite log write)", label, Summary.of(asked), note="informative"
        )
    )


def _first_sight_picks(
    pick: Callable[[str], str | None], probes: Sequence[Probe]
) -> tuple[Timings, list[str | None]]:
    """Each probe's question answered once by `pick` (timed), and what it picked."""
    picked: list[str | None] = []

    def one(question: str) -> None:
        picked.append(pick(question))

    cased_tokens.cache_clear()  # the bot's memo of tokenised text: none of these may be in it
    return time_first_sight(one, [p.question for p in probes]), picked


def top1(probes: Sequence[Probe], picked: Sequence[str | None]) -> float:
    """Share of the probes that have an answer whose pick is one of their expected keys."""
    scored = [pick in probe.expected for probe, pick in zip(probes, picked, strict=True) if probe.expected]
    return sum(scored) / len(scored) if scored else float("nan")


def _first_sight_rows(
    report: Report,
    key: str,
    metric: str,
    label: str,
    timings: Timings,
    accuracy: float | None = None,
    note: str = "distinct, each once",
) -> Summary:
    """Two rows of one first-sight run: wall time (`key`, what the targets read) and the
    thread's CPU time (`key` with `_cpu` after its first part, e.g. answer_cpu.base)."""
    wall = Summary.of(timings.wall_ns)
    cpu = Summary.of(timings.cpu_ns)
    head, _, tail = key.partition(".")
    report.add(Row.latency(key, f"{metric} (first sight, wall)", label, wall, note=note, top1=accuracy))
    report.add(
        Row.latency(f"{head}_cpu.{tail}", f"{metric} (first sight, thread CPU)", label, cpu, top1=accuracy)
    )
    return wall


def _build_server(
    report: Report, service: AnswerService, guild: int, size: int, label: str
) -> tuple[list[Synthetic], list[Synthetic]]:
    """Stream `size` synthetic entries into `guild`; keep the ones questions will aim at: those
    of the warm mix, and those of the first-sight questions."""
    rng = random.Random(SEED + size)
    aimed = set(rng.sample(range(size), min(AIMED, size)))
    aimed_first = set(random.Random(SEED + size + 1).sample(range(size), min(AIMED_FIRST_SIGHT, size)))
    targets: list[Synthetic] = []
    first_targets: list[Synthetic] = []
    start = time.perf_counter_ns()
    for n, item in enumerate(iter_entries(size, seed=SEED + size, kb=service.kb, prefix=f"s{size}")):
        service.upsert_entry(guild, item.entry)
        if n in aimed:
            targets.append(item)
        if n in aimed_first:
            first_targets.append(item)
    seconds = (time.perf_counter_ns() - start) / 1e9
    report.add(
        Row.single(
            f"build.server{size}",
            "index build: server (streamed upserts)",
            label,
            seconds,
            "s",
            note=f"{seconds / size * 1000:.3f} ms/entry",
        )
    )
    return targets, first_targets


def _updates(
    config: Config, report: Report, service: AnswerService, guild: int, size: int, label: str, mix: list[str]
) -> None:
    """One entry changed at a time: the upsert alone, then the upsert and the next question."""
    rng = random.Random(SEED - size)
    fresh = iter_entries(2 * config.updates, seed=SEED - size, kb=service.kb, prefix="tmp")

    def replacement() -> Entry:
        victim = f"s{size}-{rng.randrange(size):05d}"
        return next(fresh).entry.model_copy(update={"id": victim})

    edits = [replacement() for _ in range(config.updates)]
    alone = time_each(lambda entry: service.upsert_entry(guild, entry), edits, repeat=1, warmup=0)
    report.add(
        Row.latency(f"update.server{size}", "incremental update: upsert one entry", label, Summary.of(alone))
    )

    asked = [(replacement(), rng.choice(mix)) for _ in range(config.updates)]

    def update_then_answer(pair: tuple[Entry, str]) -> None:
        service.upsert_entry(guild, pair[0])
        service.answer(pair[1], guild)

    both = time_each(update_then_answer, asked, repeat=1, warmup=0)
    report.add(
        Row.latency(
            f"update_answer.server{size}",
            "upsert one entry, then answer",
            label,
            Summary.of(both),
            note="informative",
        )
    )


# ---- fresh processes ----------------------------------------------------------------------------
def _memory(config: Config, report: Report) -> None:
    scale = 10_000 / config.memory_entries
    for key, at_once, how in (
        ("streamed", False, "streamed upserts"),
        ("at_once", True, "all validated, then indexed"),
    ):
        measured = memory.in_subprocess(config.memory_entries, at_once=at_once)
        report.add(
            Row.single(
                f"rss.{key}",
                f"RSS per 10,000 entries ({how})",
                f"{config.memory_entries:,} entries, fresh process",
                measured["rss_added_mb"] * scale,
                "MiB",
                note="VmRSS after - before, after gc",
            )
        )


def _cold(config: Config, report: Report, database: Path) -> None:
    result = coldstart.measure(database, config.cold_runs)
    walls = Summary.of([int(ms * 1e6) for ms in result.wall_ms])
    discord = ", ".join(result.discord_modules) or "none"
    report.add(
        Row.latency(
            "cold.ask",
            "cold start: python -m bot ask --json",
            "fresh process",
            walls,
            note=f"discord imported: {discord}",
        )
    )
    report.add(
        Row.latency(
            "cold.ask_cpu",
            "cold start: python -m bot ask --json (process CPU)",
            "fresh process",
            Summary.of([int(ms * 1e6) for ms in result.cpu_ms]),
            note="user + system time of the process",
        )
    )
    report.meta["cold_start_slowest_imports_us"] = result.slowest_imports
    report.meta["cold_start_discord_modules"] = result.discord_modules


async def _e2e(config: Config, report: Report, workdir: Path) -> None:
    questions = base_mix(SEED)
    for key, stub, what in (("e2e", False, "real matcher"), ("e2e_stub", True, "canned answer (harness)")):
        result = await e2e.run(
            workdir / f"{key}.sqlite3",
            questions,
            sequential=config.e2e_sequential,
            concurrent=config.e2e_concurrent,
            concurrency=config.concurrency,
            stub_answer=stub,
        )
        scope = f"fake Discord, {what}"
        report.add(
            Row.latency(
                f"{key}.sequential",
                "end to end: INTERACTION_CREATE -> callback POST",
                f"{scope}, 1 in flight",
                _summary_ms(result.sequential_ms),
            )
        )
        report.add(
            Row.latency(
                f"{key}.concurrent",
                "end to end: INTERACTION_CREATE -> callback POST",
                f"{scope}, {result.concurrency} in flight",
                _summary_ms(result.concurrent_ms),
            )
        )
        report.add(
            Row.single(
                f"{key}.throughput",
                "end to end: interactions per second",
                f"{scope}, {result.concurrency} in flight",
                result.per_second,
                "/s",
                note=f"{result.concurrent_count} interactions in {result.concurrent_seconds:.2f} s",
            )
        )
        settle()


def _summary_ms(values: Sequence[float]) -> Summary:
    return Summary.of([int(v * 1e6) for v in values])


def _meta(config: Config) -> dict[str, object]:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    settings = asdict(config)
    settings["output"] = str(config.output)
    return {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "git_commit": commit,
        "config": settings,
        "timer": (
            "perf_counter_ns (wall) and thread_time_ns (the thread's CPU) in process; "
            "time.monotonic end to end (the fake stamps requests with it)"
        ),
        "gc": (
            "enabled while timing, no collection forced before a timed phase; gc.freeze() after "
            "start-up and after each server's bulk build"
            if config.freeze
            else "enabled while timing; never frozen (--no-freeze)"
        ),
        "first_sight": (
            "answer, peer and autocomplete rows: inputs distinct across the run, each timed once, "
            "no warm-up pass, the tokenised-text memo emptied before each pass"
        ),
        "peers": (
            "rapidfuzz extractOne(token_set_ratio) over every phrasing, and bm25s BM25 over one "
            "bag of stemmed words per document; question normalisation inside every timer"
        ),
        "rss": "VmRSS from /proc/self/status, fresh process per measurement, after gc.collect()",
    }


def run_sync(config: Config, log: Callable[[str], None] = print) -> Report:
    return asyncio.run(run(config, log))
