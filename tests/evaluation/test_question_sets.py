"""The evaluation's question sets (tests/data/eval): well formed, honest, and the CI gate.

- train: tune on it freely (`python -m bot.evaluation.fit`);
- dev: the CI gate below;
- test: frozen. Never used to tune or to add phrasings; its checksum is pinned so a change to it
  is a deliberate, reviewed act. Run it when a change is done (`python -m bot eval ...test.jsonl`).
- test2: a second frozen held-out set, by a writer who started after the first round of tuning.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from rapidfuzz import fuzz, process

from bot.core.answers import AnswerService
from bot.core.loader import KnowledgeBase
from bot.core.text import normalize_query
from bot.evaluation.scoring import EvalQuestion, Report, evaluate, fold, load_questions

EVAL_DIR = Path(__file__).parent.parent / "data" / "eval"
SPLITS = ("train", "dev", "test", "test2")
#: The held-out splits: never tuned on; no knowledge phrasing may copy one of their questions.
HELD_OUT = ("dev", "test", "test2")
KINDS = {
    "plain",
    "chat",
    "typo",
    "verbose",
    "multi",
    "yesno",
    "nonnative",
    "quote",
    "detail",
    "nearmiss",
    "offtopic",
}
FROZEN_SHA256 = {
    "test": "9c22d0a5180fefbf0d2b0bcf6f8783c2202e83950c36b6b7c7c43eb546ebde25",
    "test2": "71b9b0b5313ab5b661beed4699eee8987f08f300e7df1ce5d2e66d2ce3479a8f",
}
#: The CI gate on the dev split: what the bot reaches today, so a change that loses ground fails.
GATE_IN_SCOPE = 0.94
GATE_NEARMISS = 0.88
GATE_WRONG_FACTS = 0
#: A knowledge phrasing this close (rapidfuzz ratio) to a dev or test question is a copy of it.
NEAR_COPY = 90.0


def _split(name: str) -> list[EvalQuestion]:
    return load_questions(EVAL_DIR / f"{name}.jsonl")


@pytest.fixture(scope="module")
def splits() -> dict[str, list[EvalQuestion]]:
    return {name: _split(name) for name in SPLITS}


def test_the_sets_are_large_and_cover_every_kind(splits: dict[str, list[EvalQuestion]]) -> None:
    everything = [q for questions in splits.values() for q in questions]
    assert len(everything) >= 800
    assert {q.kind for q in everything} == KINDS
    assert sum(q.kind == "nearmiss" for q in everything) >= 200
    assert sum(q.kind == "offtopic" for q in everything) >= 60
    for name, questions in splits.items():
        assert {q.kind for q in questions} == KINDS, f"{name} lacks a kind"
        assert all((q.kind in {"nearmiss", "offtopic"}) == (not q.in_scope) for q in questions)


def test_no_question_is_in_two_splits(splits: dict[str, list[EvalQuestion]]) -> None:
    seen: dict[str, str] = {}
    for name, questions in splits.items():
        for q in questions:
            key = normalize_query(q.q)
            assert seen.setdefault(key, name) == name, f"{q.q!r} is in {seen[key]} and {name}"


def test_every_expected_fact_stands_in_the_article(
    splits: dict[str, list[EvalQuestion]], kb: KnowledgeBase
) -> None:
    article = fold(kb.sources["article"].text)
    for questions in splits.values():
        for q in questions:
            if q.in_scope:
                for group in q.expect:
                    assert any(fold(alt) in article for alt in group), f"{q.q!r}: no alternative of {group}"


@pytest.mark.parametrize("name", sorted(FROZEN_SHA256))
def test_the_test_splits_are_frozen(name: str) -> None:
    digest = hashlib.sha256((EVAL_DIR / f"{name}.jsonl").read_bytes()).hexdigest()
    assert digest == FROZEN_SHA256[name], (
        f"the frozen {name} split changed: that must be a deliberate, reviewed act"
    )


def test_no_knowledge_phrasing_copies_a_dev_or_test_question(
    splits: dict[str, list[EvalQuestion]], kb: KnowledgeBase
) -> None:
    phrasings = [q for e in kb.entries for q in e.questions] + [q for d in kb.declines for q in d.questions]
    held_out = [q.q for name in HELD_OUT for q in splits[name]]
    keys = [normalize_query(p) for p in phrasings]
    scores = process.cdist(keys, [normalize_query(q) for q in held_out], scorer=fuzz.ratio, workers=1)
    copies = [
        f"{phrasings[i]!r} ~ {held_out[j]!r}"
        for i, row in enumerate(scores)
        for j, value in enumerate(row)
        if value >= NEAR_COPY
    ]
    assert not copies, "knowledge phrasings copied from held-out questions:\n" + "\n".join(copies)


# ---- the CI gate: the dev split -------------------------------------------------------------
@pytest.fixture(scope="module")
def dev_report(service: AnswerService, kb: KnowledgeBase) -> Report:
    return evaluate(_split("dev"), service.answer, kb.sources["article"].text)


def test_dev_split_in_scope(dev_report: Report) -> None:
    ok, n = dev_report.in_scope
    assert ok / n >= GATE_IN_SCOPE, dev_report.kind_line() + "\n" + "\n".join(dev_report.misses())


def test_dev_split_declines(dev_report: Report) -> None:
    assert dev_report.rate(["nearmiss"]) >= GATE_NEARMISS, "\n".join(dev_report.misses())
    assert dev_report.rate(["offtopic"]) == 1.0, "\n".join(dev_report.misses())


def test_dev_split_every_citation_is_verbatim(dev_report: Report) -> None:
    assert dev_report.unfaithful == 0


def test_dev_split_wrong_facts(dev_report: Report) -> None:
    wrong = [
        f"{s.question.q!r}: lacks {s.lacking}: {s.answer.answer[:100]!r}" for s in dev_report.wrong_facts
    ]
    assert len(wrong) <= GATE_WRONG_FACTS, "\n".join(wrong)
