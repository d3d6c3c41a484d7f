"""Scoring answers against a question set, by the rules of the project's evaluation format.

A question set is JSON lines: {"q": str, "expect": [[alt, ...], ...] | "abstain", "kind"?: str}.
An in-scope question is answered correctly when every group has one alternative in the answer
text or a cited excerpt (case-insensitive, whitespace and quote marks normalised); "abstain"
means the bot must decline. A citation is faithful when its excerpt stands verbatim in the
article. These are the rules of the shared scorer, so the numbers agree with it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.core.answers import Answer

Expectation = list[list[str]] | Literal["abstain"]
#: Anything that answers a question: the answer service, or an engine built with other weights.
AnswerFn = Callable[[str], Answer]


class EvalQuestion(BaseModel):
    """One line of a question set."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str = Field(min_length=1)
    expect: Expectation
    kind: str = "unkinded"

    @property
    def in_scope(self) -> bool:
        return self.expect != "abstain"


def load_questions(path: Path) -> list[EvalQuestion]:
    """Every question of a JSON-lines set; a bad line is an error naming the file and line."""
    out: list[EvalQuestion] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(EvalQuestion.model_validate(json.loads(line)))
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: not a question line ({exc})") from exc
    return out


def fold(text: str) -> str:
    """The shared scorer's normal form: ASCII quotes and dashes, single spaces, lower case."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
    text = text.replace("\u2013", "-").replace("\u2014", "-")
    return re.sub(r"\s+", " ", text).strip().lower()


Verdict = Literal["correct", "abstained", "incomplete", "wrong fact", "declined", "answered off-scope"]


@dataclass(frozen=True)
class Scored:
    question: EvalQuestion
    answer: Answer
    verdict: Verdict
    #: Groups of the expectation the answer lacks (for a wrong fact).
    lacking: tuple[str, ...] = ()
    unfaithful: int = 0

    @property
    def ok(self) -> bool:
        return self.verdict in {"correct", "declined"}


def score(question: EvalQuestion, answer: Answer, article: str) -> Scored:
    """How one answer fares against its expectation (`article` already folded)."""
    unfaithful = sum(1 for c in answer.citations if not fold(c.excerpt) or fold(c.excerpt) not in article)
    if question.expect == "abstain":
        verdict: Verdict = "answered off-scope" if answer.answered else "declined"
        return Scored(question, answer, verdict, unfaithful=unfaithful)
    if not answer.answered:
        return Scored(question, answer, "abstained", unfaithful=unfaithful)
    text = fold(answer.answer + " " + " ".join(c.excerpt for c in answer.citations))
    lacking = tuple("|".join(g) for g in question.expect if not any(fold(alt) in text for alt in g))
    if not lacking:
        return Scored(question, answer, "correct", lacking, unfaithful)
    # A multi-part answer that says which part the article does not answer is incomplete, not
    # wrong; any other answer without the asked fact states a wrong one.
    declined_part = any(not part.answered for part in answer.parts)
    return Scored(question, answer, "incomplete" if declined_part else "wrong fact", lacking, unfaithful)


@dataclass
class Report:
    """Totals of one run over a question set."""

    scored: list[Scored] = field(default_factory=list)

    def _count(self, in_scope: bool) -> tuple[int, int]:
        rows = [s for s in self.scored if s.question.in_scope == in_scope]
        return sum(s.ok for s in rows), len(rows)

    @property
    def in_scope(self) -> tuple[int, int]:
        return self._count(True)

    @property
    def abstained(self) -> tuple[int, int]:
        return self._count(False)

    @property
    def wrong_facts(self) -> list[Scored]:
        return [s for s in self.scored if s.verdict == "wrong fact"]

    @property
    def unfaithful(self) -> int:
        return sum(s.unfaithful for s in self.scored)

    def by_kind(self) -> dict[str, tuple[int, int]]:
        ok: Counter[str] = Counter()
        total: Counter[str] = Counter()
        for s in self.scored:
            total[s.question.kind] += 1
            ok[s.question.kind] += s.ok
        return {kind: (ok[kind], total[kind]) for kind in sorted(total)}

    def rate(self, kinds: Iterable[str] | None = None) -> float:
        rows = [s for s in self.scored if kinds is None or s.question.kind in set(kinds)]
        return sum(s.ok for s in rows) / len(rows) if rows else 1.0

    def summary(self) -> str:
        (i_ok, i_n), (o_ok, o_n) = self.in_scope, self.abstained
        cites = sum(len(s.answer.citations) for s in self.scored)
        return (
            f"in-scope {i_ok}/{i_n} = {i_ok / max(1, i_n):.1%}; "
            f"abstained {o_ok}/{o_n} = {o_ok / max(1, o_n):.1%}; "
            f"faithful citations {cites - self.unfaithful}/{cites}; wrong facts {len(self.wrong_facts)}"
        )

    def kind_line(self) -> str:
        return "by kind: " + "; ".join(f"{k} {ok}/{n}" for k, (ok, n) in self.by_kind().items())

    def misses(self) -> list[str]:
        out = []
        for s in self.scored:
            if s.ok:
                continue
            why = f"lacks {' / '.join(s.lacking)}" if s.lacking else s.verdict
            out.append(f"miss [{s.question.kind}] {s.question.q!r}: {why}: {s.answer.answer[:80]!r}")
        return out


def evaluate(questions: Sequence[EvalQuestion], answer: AnswerFn, article: str) -> Report:
    """Answer every question with `answer` and score it."""
    folded = fold(article)
    return Report([score(q, answer(" ".join(q.q.split())), folded) for q in questions])
