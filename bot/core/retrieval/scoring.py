"""The scoring formula, written once, and the re-scoring of candidates with it.

score = coverage_weight * coverage + (1 - coverage_weight) * fit, times each penalty that applies:
- coverage: the share of the question's weight (IDF-weighted terms and entities) that the
  document contains; an unknown word counts against it, which is what makes "best pizza
  topping" score near zero instead of matching the nearest thing;
- fit: of the document's best phrasing, phrase_sim_weight * similarity (rapidfuzz) + the rest
  * precision (the IDF-weighted share of the phrasing's terms that the question contains);
- penalties: the question names people or things the document is not about; the question
  asks what someone said and the document quotes someone else; and the square root of the
  share of the question's weight that its known words carry.

Re-scoring skips work that cannot change the result, with upper bounds derived from the same
formula (`PhrasingFit.phrasings`, `Formula.fit_needed`); `exhaustive=True` scores every
phrasing of every candidate instead, and tests check that both give the same matches.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import Final

from rapidfuzz.fuzz import ratio, token_set_ratio

from bot.core.documents import Document
from bot.core.retrieval.index import IdfTable, Indexed
from bot.core.retrieval.query import QueryAnalysis
from bot.core.retrieval.weights import Weights

#: Slack for float rounding in upper bounds: a bound must never fall below the exact value.
EPS: Final = 1e-9


@dataclass(frozen=True)
class Match:
    doc: Document
    score: float
    coverage: float
    similarity: float
    best_question: str


class Formula:
    """The score of a document for a question, its parts and its bounds, from one `Weights`.

    Derived numbers are computed once here, not per phrasing.
    """

    __slots__ = (
        "coverage_weight",
        "entity_miss_factor",
        "fit_weight",
        "other_speaker_factor",
        "precision_weight",
        "ratio_share",
        "set_share",
        "sim_floor",
        "sim_span",
        "sim_weight",
        "suggestion_rest",
        "suggestion_share",
        "weights",
    )

    def __init__(self, weights: Weights) -> None:
        self.weights = weights
        self.coverage_weight = weights.coverage_weight
        self.fit_weight = weights.fit_weight
        self.sim_weight = weights.phrase_sim_weight
        self.precision_weight = weights.precision_weight
        self.set_share = weights.set_ratio_share
        self.ratio_share = weights.ratio_share
        self.entity_miss_factor = weights.entity_miss_factor
        self.other_speaker_factor = weights.other_speaker_factor
        #: A phrasing's fit is at most sim_floor + sim_span * (length ratio) + its precision
        #: share: rapidfuzz's ratio cannot beat the ratio of the two lengths, token_set_ratio 1.
        self.sim_floor = self.sim_weight * self.set_share
        self.sim_span = self.sim_weight * self.ratio_share
        self.suggestion_share = weights.autocomplete_score_share
        self.suggestion_rest = 1.0 - weights.autocomplete_score_share

    # ---- the formula ----------------------------------------------------------------------
    def fit(self, query_key: str, key: str, precision: float) -> tuple[float, float]:
        """(fit, similarity) of a phrasing whose similarity key is `key`, for a question whose key
        is `query_key`; `precision` as `PhrasingFit.phrasings` gives it. Similarity is 0..1.

        token_set_ratio forgives extra words, ratio punishes them: the blend prefers the phrasing
        that says what the question says, no more and no less. token_set_ratio alone would rate a
        one-word phrasing ("nuclear") a perfect match for any question containing that word.
        """
        sim = (
            self.set_share * token_set_ratio(query_key, key) + self.ratio_share * ratio(query_key, key)
        ) / 100.0
        return self.sim_weight * sim + self.precision_weight * precision, sim

    @staticmethod
    def unknown_factor(query: QueryAnalysis) -> float:
        """A question whose unexplained words carry much of its weight is about something else."""
        return math.sqrt(1.0 - query.unknown_share)

    @staticmethod
    def penalties(query: QueryAnalysis, doc: Document) -> tuple[bool, bool]:
        """(entity miss, other speaker): whether the question names people or things and `doc` is
        about none of them; whether it asks for someone's words and `doc` quotes someone else
        ("What did Putin say?" must not be answered with Blinken's words about Putin)."""
        entities = query.entities
        return (
            bool(entities) and entities.isdisjoint(doc.entities),
            bool(query.speaker and doc.speakers and query.voices.isdisjoint(doc.speakers)),
        )

    def score(
        self, coverage: float, fit: float, entity_miss: bool, unknown_factor: float, other_speaker: bool
    ) -> float:
        """The score before it is capped at 1 (see `Formula.penalties`, `Formula.unknown_factor`)."""
        score = self.coverage_weight * coverage + self.fit_weight * fit
        if entity_miss:
            score *= self.entity_miss_factor
        score *= unknown_factor
        if other_speaker:
            score *= self.other_speaker_factor
        return score

    # ---- bounds ---------------------------------------------------------------------------
    def factor(self, entity_miss: bool, other_speaker: bool, unknown_factor: float) -> float:
        """The product of the penalties that apply (what `score` multiplies by)."""
        factor = unknown_factor
        if entity_miss:
            factor *= self.entity_miss_factor
        if other_speaker:
            factor *= self.other_speaker_factor
        return factor

    def fit_needed(
        self, threshold: float, coverage: float, entity_miss: bool, other_speaker: bool, unknown_factor: float
    ) -> float:
        """The phrasing fit below which a document scores under `threshold` (a bit lower, for
        rounding: a bound may skip work only when it is surely too low)."""
        factor = self.factor(entity_miss, other_speaker, unknown_factor)
        if factor <= 0.0:
            return -math.inf
        return (threshold / factor - self.coverage_weight * coverage) / self.fit_weight - EPS

    # ---- autocomplete ---------------------------------------------------------------------
    def suggestion(self, match_score: float, similarity: float) -> float:
        """How a phrasing ranks as a suggestion: its document's score, blended with how well it
        continues the typed text (fuzz.WRatio, 0..1)."""
        return self.suggestion_share * match_score + self.suggestion_rest * similarity

    def suggestion_cutoff(self, floor: float, match_score: float) -> float:
        """The WRatio (0..100) a phrasing of a document scoring `match_score` needs to rank at
        least `floor` as a suggestion (a hair lower, so ties at the floor are kept)."""
        return max(0.0, (floor - self.suggestion_share * match_score) / self.suggestion_rest * 100.0 - 1e-6)


class PhrasingFit:
    """How well one question can fit each phrasing of a document: exact term precision, and an
    upper bound of the fit.

    The bound lets re-scoring skip rapidfuzz for phrasings and documents that cannot win.
    """

    __slots__ = (
        "_seen",
        "floor",
        "idf",
        "key",
        "key_len",
        "precision_weight",
        "query_idf",
        "query_terms",
        "span",
    )

    def __init__(self, query: QueryAnalysis, idf: IdfTable, formula: Formula) -> None:
        self.key = query.key
        self.key_len = len(query.key)
        self.query_terms = query.terms.keys()
        self.query_idf = {t: idf.get(t, 1.0) for t in query.terms}
        self.idf = idf
        self.floor, self.span = formula.sim_floor, formula.sim_span
        self.precision_weight = formula.precision_weight
        # Tie-breaking and rescoring read the same documents: compute their phrasings once.
        self._seen: dict[Indexed, list[tuple[float, int, float]]] = {}

    def phrasings(self, item: Indexed) -> list[tuple[float, int, float]]:
        """(fit bound, position, precision) of each phrasing of `item`, highest bound first.

        Precision, the IDF-weighted share of the phrasing's terms that the question contains, is
        exact (summed in the phrasing's sorted term order, so reproducible to the last bit). The
        bound adds the best similarity the lengths allow: rapidfuzz's ratio cannot beat the
        ratio of the two lengths. Inlined arithmetic: this runs for every candidate phrasing.
        """
        out = self._seen.get(item)
        if out is not None:
            return out
        query_terms, query_idf, total_of = self.query_terms, self.query_idf, self.idf.total
        key_len, floor, span, precision_weight = self.key_len, self.floor, self.span, self.precision_weight
        out = self._seen[item] = []
        for at, (key, terms) in enumerate(zip(item.keys, item.key_terms, strict=True)):
            lengths = key_len + len(key)
            ratio = 1.0 - abs(key_len - len(key)) / lengths if lengths else 1.0
            if query_terms.isdisjoint(terms):
                out.append((floor + span * ratio + EPS, at, 0.0))
                continue
            total = total_of(terms)
            precision = sum(query_idf[t] for t in terms if t in query_idf) / total if total else 0.0
            out.append((floor + span * ratio + precision_weight * precision + EPS, at, precision))
        out.sort(reverse=True)
        return out


@dataclass(slots=True)
class _Plan:
    """A candidate document prepared for re-scoring (see `rescore`)."""

    ceiling: float  # an upper bound of its score
    rank: int  # its place among the candidates
    item: Indexed
    coverage: float
    entity_miss: bool
    other_speaker: bool
    phrasings: list[tuple[float, int, float]]  # see `PhrasingFit.phrasings`


def rescore(
    formula: Formula,
    query: QueryAnalysis,
    ranked: list[tuple[Indexed, float]],
    fit: PhrasingFit,
    limit: int,
    *,
    exhaustive: bool = False,
) -> list[Match]:
    """The score of each candidate (`ranked`: documents with their coverage weight), in candidate
    order, so ties sort as in a full pass; at least the `limit` best are among them.

    Only the `limit` best matches are wanted, so documents are scored most promising first
    (by an upper bound of their score): once a bound is below the `limit`-th best score so
    far, that document and all after it are skipped; within a document, a phrasing is skipped
    when its bound cannot beat the best fit so far or lift the document to that score.
    `exhaustive=True` scores every phrasing of every candidate instead.
    """
    if exhaustive:
        return _rescore_all(formula, query, ranked, fit)
    total = query.total_weight
    unknown_factor = formula.unknown_factor(query)
    penalties, score_of, fit_of, key = formula.penalties, formula.score, formula.fit, query.key
    plans: list[_Plan] = []
    for rank, (item, raw_coverage) in enumerate(ranked):
        coverage = raw_coverage / total
        entity_miss, other_speaker = penalties(query, item.doc)
        phrasings = fit.phrasings(item)
        ceiling = score_of(coverage, phrasings[0][0], entity_miss, unknown_factor, other_speaker)
        plans.append(_Plan(ceiling, rank, item, coverage, entity_miss, other_speaker, phrasings))
    plans.sort(key=lambda plan: (-plan.ceiling, plan.rank))
    best_scores: list[float] = []  # min-heap of the `limit` best scores so far
    found: list[tuple[int, Match]] = []
    for plan in plans:
        floor = -math.inf  # the fit this document needs to reach the `limit` best
        if len(best_scores) >= limit:
            if plan.ceiling < best_scores[0]:
                break  # sorted by ceiling: no later document can place either
            floor = formula.fit_needed(
                best_scores[0], plan.coverage, plan.entity_miss, plan.other_speaker, unknown_factor
            )
        item = plan.item
        best_fit, best_at, best_sim = -1.0, 0, 0.0
        for bound, at, precision in plan.phrasings:
            if bound < best_fit or bound < floor:
                break  # sorted: no later phrasing can fit better
            value, sim = fit_of(key, item.keys[at], precision)
            # The first phrasing wins a tie, as in a plain pass in phrasing order.
            if value > best_fit or (value == best_fit and at < best_at):
                best_fit, best_at, best_sim = value, at, sim
        if best_fit < floor:
            continue  # every phrasing that could lift it was below the floor: it cannot place
        score = min(
            1.0, score_of(plan.coverage, best_fit, plan.entity_miss, unknown_factor, plan.other_speaker)
        )
        found.append((plan.rank, Match(item.doc, score, plan.coverage, best_sim, item.questions[best_at])))
        if len(best_scores) < limit:
            heapq.heappush(best_scores, score)
        elif score > best_scores[0]:
            heapq.heapreplace(best_scores, score)
    found.sort(key=lambda pair: pair[0])
    return [match for _, match in found]


def _rescore_all(
    formula: Formula, query: QueryAnalysis, ranked: list[tuple[Indexed, float]], fit: PhrasingFit
) -> list[Match]:
    """Every candidate, every phrasing in order: the plain computation that `rescore` shortens."""
    total = query.total_weight
    unknown_factor = formula.unknown_factor(query)
    out: list[Match] = []
    for item, raw_coverage in ranked:
        coverage = raw_coverage / total
        entity_miss, other_speaker = formula.penalties(query, item.doc)
        precision = {at: value for _, at, value in fit.phrasings(item)}
        best_fit, best_at, best_sim = -1.0, 0, 0.0
        for at, key in enumerate(item.keys):
            value, sim = formula.fit(query.key, key, precision[at])
            if value > best_fit:
                best_fit, best_at, best_sim = value, at, sim
        score = min(1.0, formula.score(coverage, best_fit, entity_miss, unknown_factor, other_speaker))
        out.append(Match(item.doc, score, coverage, best_sim, item.questions[best_at]))
    return out
