"""Answer quality on a set of paraphrased questions (tests/data/paraphrases.tsv).

Each line is `expected<TAB>question`, where expected is an entry id (or several, `a|b`) or
ABSTAIN. An answer also counts when it cites the same passage as the expected entry: a
quotation of the very words an entry cites is an equally good answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.core.answers import Answer, AnswerService
from bot.core.loader import KnowledgeBase
from bot.core.text import normalize_verbatim
from bot.settings import PROJECT_ROOT

CASES = [
    tuple(line.split("\t", 1))
    for line in (Path(__file__).parent.parent / "data" / "paraphrases.tsv")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip()
]


def _same_passage(answer: Answer, expected_ids: list[str], kb: KnowledgeBase) -> bool:
    cited = [normalize_verbatim(c.excerpt) for c in answer.citations]
    for entry in kb.entries:
        if entry.id not in expected_ids:
            continue
        for citation in entry.citations:
            wanted = normalize_verbatim(citation.excerpt)
            if any(wanted in got or got in wanted for got in cited):
                return True
    return False


def _correct(expected: str, answer: Answer, kb: KnowledgeBase) -> bool:
    if expected == "ABSTAIN":
        return not answer.answered
    ids = expected.split("|")
    return answer.answered and (answer.entry_id in ids or _same_passage(answer, ids, kb))


def test_paraphrase_set_is_answered_or_declined_correctly(service: AnswerService, kb: KnowledgeBase) -> None:
    misses = [
        f"{question!r}: expected {expected}, got {answer.entry_id if answer.answered else 'ABSTAIN'}"
        for expected, question in CASES
        if not _correct(expected, answer := service.answer(question), kb)
    ]
    accuracy = 1 - len(misses) / len(CASES)
    assert accuracy >= 0.95, f"accuracy {accuracy:.1%}; misses:\n" + "\n".join(misses)


@pytest.mark.parametrize("question", [q for e, q in CASES if e == "ABSTAIN"])
def test_out_of_scope_questions_are_declined(service: AnswerService, question: str) -> None:
    answer = service.answer(question)
    assert not answer.answered
    assert answer.citations == []
    assert answer.suggestions, "an abstention should offer questions the bot can answer"


# ---- question sets in the evaluation format (expect groups or "abstain") ------------------------
SHARED_DEV = PROJECT_ROOT.parent / "shared" / "eval" / "dev_questions.jsonl"
CONTRACT_SETS = [Path(__file__).parent.parent / "data" / "contract_questions.jsonl", SHARED_DEV]


def _fold(text: str) -> str:
    return " ".join(normalize_verbatim(text).lower().split())


@pytest.mark.parametrize("path", CONTRACT_SETS, ids=lambda p: p.name)
def test_question_sets_in_the_evaluation_format(
    service: AnswerService, kb: KnowledgeBase, path: Path
) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not present on this machine")
    article = _fold(kb.sources["article"].text)
    cases = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    misses: list[str] = []
    in_scope = [c for c in cases if c["expect"] != "abstain"]
    for case in cases:
        answer = service.answer(case["q"])
        for citation in answer.citations:
            assert _fold(citation.excerpt) in article, f"unfaithful excerpt for {case['q']!r}"
        if case["expect"] == "abstain":
            if answer.answered:
                misses.append(f"{case['q']!r}: answered, should abstain")
            continue
        text = _fold(answer.answer + " " + " ".join(c.excerpt for c in answer.citations))
        lacking = [g for g in case["expect"] if not any(_fold(alt) in text for alt in g)]
        if not answer.answered or lacking:
            misses.append(f"{case['q']!r}: {'abstained' if not answer.answered else f'lacks {lacking}'}")
    abstain_misses = [m for m in misses if m.endswith("should abstain")]
    assert not abstain_misses, "\n".join(abstain_misses)
    assert len(misses) <= 0.05 * len(in_scope), "\n".join(misses)
