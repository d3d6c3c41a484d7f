"""Answer quality on a set of paraphrased questions (tests/data/paraphrases.tsv).

Each line is `expected<TAB>question`, where expected is an entry id (or several, `a|b`) or
ABSTAIN. An answer also counts when it cites the same passage as the expected entry: a
quotation of the very words an entry cites is an equally good answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.answers import Answer, AnswerService
from bot.core.loader import KnowledgeBase
from bot.core.text import normalize_verbatim

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
