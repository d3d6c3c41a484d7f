"""Fit the answering weights on the train split: `python -m bot.evaluation.fit`.

Coordinate descent over a small grid: each weight in turn takes every value of its grid while
the others stay put, and keeps the value that scores best on the train split; two rounds. The
objective rewards answering in-scope questions and declining the rest equally, and punishes a
wrong fact (an answer that lacks the asked fact) more than an honest decline. Only the train
split is read: the dev split gates CI and the test split stays frozen.

It prints the score of the current weights and of the fitted ones on train (and, for
information only, on dev), and the `Weights(...)` values to paste into
`bot/core/retrieval/weights.py` with their provenance.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.core.answers import AnswerService
from bot.core.loader import KnowledgeBase, load_knowledge
from bot.core.retrieval import DEFAULT_WEIGHTS, Weights
from bot.evaluation.scoring import EvalQuestion, Report, evaluate, load_questions
from bot.settings import PACKAGED_KNOWLEDGE, PROJECT_ROOT

EVAL_DIR = PROJECT_ROOT / "tests" / "data" / "eval"
#: A wrong fact costs this many declines: "the article doesn't say" beats a wrong answer.
WRONG_FACT_COST = 2.0

#: The weights searched and the values each may take.
GRID: dict[str, Sequence[float]] = {
    "answer_threshold": [0.30, 0.32, 0.34, 0.36, 0.38, 0.40, 0.42, 0.44, 0.46, 0.48, 0.50],
    "fallthrough_margin": [0.05, 0.10, 0.15, 0.20, 0.30],
    "min_coverage": [0.0, 0.2, 0.25, 0.3, 0.35, 0.4],
    "facet_miss_factor": [0.5, 0.6, 0.7, 0.8, 0.9, 1.0],
    "fallback_threshold": [0.40, 0.45, 0.50, 0.55, 0.60, 0.70, 1.01],
    "coverage_weight": [0.35, 0.45, 0.50, 0.55, 0.65],
    "entity_miss_factor": [0.4, 0.55, 0.7, 0.85, 1.0],
    "question_word_scale": [0.4, 0.55, 0.7, 0.85, 1.0, 1.2, 1.5],
    "entity_boost": [1.0, 1.3, 1.6, 2.0, 2.5],
    "synonym_scale": [0.6, 0.75, 0.9, 1.0],
    "set_ratio_share": [0.2, 0.35, 0.5, 0.65],
    "phrase_sim_weight": [0.3, 0.4, 0.5, 0.6, 0.7],
    "body_field": [0.4, 0.55, 0.7, 0.85],
}


def objective(report: Report) -> float:
    (i_ok, i_n), (o_ok, o_n) = report.in_scope, report.abstained
    wrong = len(report.wrong_facts)
    return 0.5 * i_ok / max(1, i_n) + 0.5 * o_ok / max(1, o_n) - 0.5 * WRONG_FACT_COST * wrong / max(1, i_n)


def run(kb: KnowledgeBase, weights: Weights, questions: list[EvalQuestion]) -> Report:
    service = AnswerService(kb, weights=weights)
    article = "\n\n".join(source.text for source in kb.sources.values())
    return evaluate(questions, service.answer, article)


def fit(kb: KnowledgeBase, questions: list[EvalQuestion], start: Weights, rounds: int = 2) -> Weights:
    best = start
    best_score = objective(run(kb, best, questions))
    for round_no in range(1, rounds + 1):
        changed = False
        for name, values in GRID.items():
            for value in values:
                if value == getattr(best, name):
                    continue
                change: dict[str, Any] = {name: value}
                try:
                    candidate = dataclasses.replace(best, **change)
                except ValueError:
                    continue  # outside the range the engine's bounds are exact for
                value_score = objective(run(kb, candidate, questions))
                if value_score > best_score + 1e-9:
                    best, best_score, changed = candidate, value_score, True
            print(
                f"round {round_no}: {name} = {getattr(best, name)} (objective {best_score:.4f})", flush=True
            )
        if not changed:
            break
    return best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.evaluation.fit", description=__doc__.split("\n")[0])
    parser.add_argument("--train", type=Path, default=EVAL_DIR / "train.jsonl")
    parser.add_argument("--dev", type=Path, default=EVAL_DIR / "dev.jsonl")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    kb = load_knowledge(PACKAGED_KNOWLEDGE)
    train = load_questions(args.train)
    started = time.perf_counter()
    fitted = fit(kb, train, DEFAULT_WEIGHTS, args.rounds)
    for label, weights in (("current", DEFAULT_WEIGHTS), ("fitted", fitted)):
        for split, path in (("train", args.train), ("dev (not fitted on)", args.dev)):
            report = run(kb, weights, load_questions(path))
            print(f"{label:8} {split:20} {report.summary()}")
    changed = {f.name: getattr(fitted, f.name) for f in dataclasses.fields(fitted) if f.name in GRID}
    print(f"\nfitted in {time.perf_counter() - started:.0f} s on {args.train.name} ({len(train)} questions):")
    for name, value in changed.items():
        print(f"    {name}={value!r},  # fitted on {args.train.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
