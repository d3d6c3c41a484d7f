"""The benchmark suite works and reports well-formed results; timings themselves are not asserted
(a timed unit test fails on a busy machine, not on slow code). Also: the CLI ask path never
imports discord.py, which is what keeps its cold start short."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from benchmarks import coldstart
from benchmarks.measure import Summary, percentile, time_first_sight
from benchmarks.peers import Bm25Peer, ExtractOnePeer, build_peers
from benchmarks.report import Report, Row, targets
from benchmarks.suite import top1
from benchmarks.synthetic import (
    EXCERPTS,
    MAX_ENTRIES,
    WARMUP,
    Probe,
    aimed_probes,
    base_mix,
    first_sight_probes,
    iter_entries,
    server_mix,
    typing_prefixes,
    with_typo,
)
from bot.core.answers import AnswerService
from bot.core.loader import KnowledgeBase
from bot.core.text import normalize_query
from bot.settings import PROJECT_ROOT


def test_quick_run_prints_a_table_and_writes_well_formed_json(tmp_path: Path) -> None:
    output = tmp_path / "results" / "quick.json"
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--output", str(output)],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(output.read_text(encoding="utf-8"))
    assert {"meta", "rows", "targets"} <= result.keys()
    rows = {row["key"]: row for row in result["rows"]}
    largest = max(result["meta"]["config"]["sizes"])
    for key in [
        "load.kb",
        "answer.base",
        "floor.base",
        "bm25.base",
        "autocomplete.base",
        "ask.base",
        "build.base",
        f"answer.server{largest}",
        f"floor.server{largest}",
        f"bm25.server{largest}",
        f"autocomplete.server{largest}",
        f"update.server{largest}",
        "e2e.sequential",
        "e2e_stub.sequential",
        "cold.ask",
        "cold.ask_cpu",
    ]:
        row = rows[key]
        assert row["n"] >= 1 and 0 < row["median"] <= row["p99"], key
    for key in [
        f"speedup_median_floor.server{largest}",
        f"speedup_median_bm25.server{largest}",
        "rss.streamed",
        "rss.at_once",
        "e2e.throughput",
    ]:
        assert rows[key]["value"] > 0, key
    # First sight: distinct questions timed once each, wall time and the thread's CPU time, for
    # the engine and both peers, each with its top-1 accuracy on the same questions.
    first_sight = result["meta"]["config"]["first_sight"]
    for scope in ["base", f"server{largest}"]:
        assert rows[f"answer.{scope}"]["n"] >= first_sight
        for who in ["answer", "floor", "bm25"]:
            assert rows[f"{who}_cpu.{scope}"]["n"] == rows[f"{who}.{scope}"]["n"]
            assert rows[f"{who}_cpu.{scope}"]["median"] > 0
            assert 0.0 < rows[f"{who}.{scope}"]["top1"] <= 1.0, (who, scope)
        assert rows[f"bm25.{scope}"]["n"] == rows[f"answer.{scope}"]["n"]
        assert rows[f"answer_warm.{scope}"]["n"] >= 1
    # At a server, the engine answers the questions aimed at its entries; a run that scored
    # nothing would show a broken ground truth, not a slow engine.
    assert rows[f"answer.server{largest}"]["top1"] > 0.5
    assert "enabled while timing" in result["meta"]["gc"]
    assert "top-1" in proc.stdout
    assert len(result["targets"]) == len(targets(largest))
    assert all(t["met"] in (True, False) for t in result["targets"]), "every target should be measured"
    assert "discord imported: none" in rows["cold.ask"]["note"]
    assert "answer: AnswerService.answer" in proc.stdout and "target" in proc.stdout


def test_the_cli_ask_path_imports_no_discord(tmp_path: Path) -> None:
    env = dict(os.environ, BOT_DATABASE=str(tmp_path / "ask.sqlite3"))
    proc = subprocess.run(
        coldstart.ask_command("Who attended the meeting?", importtime=True),
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(proc.stdout)["answered"] is True
    modules = [name for name, _, _ in coldstart.imported_modules(proc.stderr)]
    assert "bot.core.answers" in modules, "the importtime trace should list the bot's modules"
    assert not [m for m in modules if m.split(".")[0] in {"discord", "aiohttp"}]


def test_importtime_lines_are_parsed() -> None:
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:       120 |        120 |   _io",
            "import time:      1500 |       2400 | discord.http",
            "some other line",
        ]
    )
    assert coldstart.imported_modules(stderr) == [("_io", 120, 120), ("discord.http", 1500, 2400)]


# ---- statistics and the report ---------------------------------------------------------------------
@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=200))
def test_summary_is_ordered_and_in_milliseconds(samples: list[int]) -> None:
    summary = Summary.of(samples)
    assert summary.n == len(samples)
    assert min(samples) / 1e6 <= summary.median <= summary.p99 <= summary.max == max(samples) / 1e6
    assert min(samples) / 1e6 <= summary.mean <= max(samples) / 1e6 + 1e-9


@given(
    st.lists(st.floats(min_value=-1e6, max_value=1e6), min_size=1, max_size=50),
    st.floats(min_value=0, max_value=100),
    st.floats(min_value=0, max_value=100),
)
def test_percentile_is_monotone_and_within_the_data(values: list[float], p: float, q: float) -> None:
    ordered = sorted(values)
    low, high = sorted((p, q))
    assert ordered[0] <= percentile(ordered, low) <= percentile(ordered, high) + 1e-6 <= ordered[-1] + 2e-6
    assert percentile(ordered, 0) == ordered[0] and percentile(ordered, 100) == ordered[-1]


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile(list(map(float, range(101))), 99) == 99.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_targets_are_met_missed_or_not_measured() -> None:
    report = Report()
    report.add(Row.latency("answer.base", "answer", "base", Summary.of([300_000, 400_000, 5_000_000])))
    report.add(Row.single("e2e.throughput", "per second", "fake", 250.0, "/s"))
    checks = {c["target"]: c for c in report.checks(10_000)}
    assert checks["real KB: answer p50"]["met"] is True  # 0.4 ms <= 0.5 ms
    assert checks["real KB: answer p99"]["met"] is False  # ~4.9 ms > 2 ms
    assert checks["end to end: interactions/s, 50 in flight"]["met"] is False  # 250 < 300
    assert checks["cold start: python -m bot ask (median)"]["met"] is None
    table = report.table(10_000)
    assert "MISSED" in table and "not measured" in table and "0.400 ms" in table


def test_first_sight_timing_runs_each_item_once_with_wall_and_cpu_time() -> None:
    calls: list[int] = []
    timings = time_first_sight(calls.append, [3, 1, 2])
    assert calls == [3, 1, 2]
    assert len(timings.wall_ns) == len(timings.cpu_ns) == 3
    assert all(t >= 0 for t in [*timings.wall_ns, *timings.cpu_ns])
    with pytest.raises(ValueError):
        time_first_sight(calls.append, [1, 1])


# ---- synthetic data ------------------------------------------------------------------------------
def test_first_sight_questions_are_many_distinct_and_never_the_warm_up(kb: KnowledgeBase) -> None:
    probes = first_sight_probes(kb, seed=3, count=1_000)
    keys = [normalize_query(p.question) for p in probes]
    assert len(set(keys)) == len(keys) == 1_000 and all(keys)
    assert not {normalize_query(q) for q in WARMUP} & set(keys)
    assert probes == first_sight_probes(kb, seed=3, count=1_000)
    assert len(first_sight_probes(kb, seed=3)) >= 1_000
    with pytest.raises(ValueError):
        first_sight_probes(kb, seed=3, count=10**6)


def test_first_sight_questions_know_their_answers(kb: KnowledgeBase, service: AnswerService) -> None:
    keys = {doc.key for doc in service.engine.documents(None)}
    probes = first_sight_probes(kb, seed=3)
    expected = [p for p in probes if p.expected]
    assert len(expected) >= 0.9 * len(probes)
    assert all(p.expected <= keys for p in expected), "every expected id is a document of the base"
    # A phrasing of an entry, asked as written, expects that entry.
    entry = kb.entries[0]
    assert any(p.expected == {entry.id} for p in probes)
    assert any(not p.expected for p in probes), "out-of-scope questions expect no answer"


def test_synthetic_entries_are_reproducible_distinct_and_cite_the_article(kb: KnowledgeBase) -> None:
    first = list(iter_entries(300, seed=5, kb=kb))
    again = list(iter_entries(300, seed=5, kb=kb))
    assert [s.entry for s in first] == [s.entry for s in again]
    assert len({s.entry.id for s in first}) == 300
    assert all(len(s.entry.questions) == 5 for s in first)
    article = kb.text_of("article")
    for item in first:
        [citation] = item.entry.citations
        assert citation.excerpt in EXCERPTS
        assert citation.location == article.locate(citation.excerpt) is not None
    other = list(iter_entries(300, seed=6, kb=kb))
    assert [s.entry for s in other] != [s.entry for s in first]


def test_ten_thousand_synthetic_entries_share_no_phrasing_and_no_code_name(kb: KnowledgeBase) -> None:
    items = list(iter_entries(10_000, seed=10_000, kb=kb))
    names = [item.fields["c"] for item in items]
    assert len(set(names)) == len(names) == 10_000
    triples = {(item.fields["q"], item.fields["p"], item.fields["d"]) for item in items}
    assert len(triples) == 10_000
    phrasings = [normalize_query(q) for item in items for q in item.entry.questions]
    assert len(set(phrasings)) == len(phrasings) == 50_000
    base = {normalize_query(q) for entry in kb.entries for q in entry.questions}
    assert not base & set(phrasings)
    # Every phrasing names its entry's code name or its whole triple, which no other entry has.
    for item in items[:500]:
        f = item.fields
        for question in item.entry.questions:
            assert f["c"] in question or all(f[k] in question for k in "qpd"), question
    with pytest.raises(ValueError):
        next(iter_entries(MAX_ENTRIES + 1, seed=1, kb=kb))


def test_aimed_questions_expect_their_entry_and_name_it_alone(kb: KnowledgeBase) -> None:
    items = list(iter_entries(2_000, seed=4, kb=kb))
    probes = aimed_probes(items, seed=9)
    assert [p.expected for p in probes] == [frozenset({item.entry.id}) for item in items]
    # No aimed question is also exactly one of the entry's phrasings: it is a paraphrase.
    for item, probe in zip(items, probes, strict=True):
        assert normalize_query(probe.question) not in {normalize_query(q) for q in item.entry.questions}


# ---- the peers -------------------------------------------------------------------------------------
def test_both_peers_find_an_entry_from_its_own_phrasing_normalising_inside(service: AnswerService) -> None:
    docs = service.engine.documents(None)
    peers = build_peers(docs)
    assert [type(p) for p in peers] == [ExtractOnePeer, Bm25Peer]
    entry = next(d for d in docs if d.kind == "entry" and len(d.questions[0].split()) >= 4)
    # Upper case and typographic punctuation: each peer normalises the raw question itself.
    shouted = entry.questions[0].upper().replace("'", "’") + "!!"
    for peer in peers:
        assert peer.best(shouted) == entry.key, peer.label
        assert peer.describe()
    assert Bm25Peer(docs).best("the of and") is None, "no term left: BM25 picks nothing"


def test_top1_counts_only_questions_that_have_an_answer() -> None:
    probes = [Probe("a", frozenset({"x"})), Probe("b", frozenset({"y", "z"})), Probe("c")]
    assert top1(probes, ["x", "z", "anything"]) == 1.0
    assert top1(probes, ["x", None, None]) == 0.5
    assert top1(probes, [None, "x", "x"]) == 0.0


def test_question_mixes_are_reproducible(kb: KnowledgeBase) -> None:
    entries = list(iter_entries(50, seed=1, kb=kb))
    assert base_mix(3) == base_mix(3)
    assert server_mix(entries, seed=3) == server_mix(entries, seed=3)
    assert len(server_mix(entries, seed=3)) == len(base_mix(3)) + 50
    mix = base_mix(3)
    prefixes = typing_prefixes(mix, seed=4)
    assert prefixes[0] == "" and all(any(q.startswith(p) for q in mix) for p in prefixes)


@given(st.text(alphabet="abcdefgh ", max_size=60), st.integers(min_value=0, max_value=10**6))
def test_a_typo_changes_one_long_word_by_one_letter(text: str, seed: int) -> None:
    import random

    typo = with_typo(text, random.Random(seed))
    before, after = text.split(), typo.split()
    assert len(before) == len(after)
    changed = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
    assert len(changed) <= 1
    for original, misspelt in changed:
        assert len(original) >= 6
        assert len(misspelt) in (len(original), len(original) - 1)
        assert sorted(misspelt) == sorted(original) or len(misspelt) == len(original) - 1
