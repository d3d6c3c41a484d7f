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
formula (`PhrasingFit.figures`, `Formula.fit_needed`), computed lazily: a candidate's best
phrasing bound costs a lookup per question term, and the bound of each phrasing is computed
only for the documents actually scored. `exhaustive=True` scores every phrasing of every
candidate instead (`PhrasingFit.phrasings`), and tests check that both give the same matches,
to the last bit.
"""

from __future__ import annotations

import heapq
import math
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any, Final

from rapidfuzz.fuzz import ratio, token_set_ratio

from bot.core.documents import Document
from bot.core.limits import FIT_BOUND_TABLES, WIDE_BITSETS_MEMO
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
        "_bases",
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
        #: Question key length -> its table of phrasing length bounds (see `_Bases`).
        self._bases: dict[int, _Bases] = {}

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
    def bases(self, key_len: int) -> _Bases:
        """The similarity part of the fit bound of a phrasing, by its key length, for a question
        whose key is `key_len` long: a function of the two lengths alone, so questions of one
        length share one table and most lookups are hits."""
        found = self._bases.get(key_len)
        if found is None:
            if len(self._bases) >= FIT_BOUND_TABLES:
                self._bases.clear()
            found = self._bases[key_len] = _Bases(key_len, self.sim_floor, self.sim_span)
        return found

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


def _bits(mask: int) -> tuple[int, ...]:
    """The positions of the set bits of `mask`, lowest first."""
    out = []
    while mask:
        low = mask & -mask
        out.append(low.bit_length() - 1)
        mask ^= low
    return tuple(out)


#: The set bits of every phrasing bitset of up to 10 phrasings (most documents), looked up
#: instead of computed (80 KiB, under a millisecond at import).
_BITS_LIMIT: Final = 1 << 10
_BITS: Final = tuple(_bits(mask) for mask in range(_BITS_LIMIT))
#: The same for the larger bitsets (documents with more phrasings), memoised as met.
_WIDE_BITS: dict[int, tuple[int, ...]] = {}


def _wide_bits(mask: int) -> tuple[int, ...]:
    """`_bits(mask)` for a bitset past the table (a document with more than ten phrasings)."""
    found = _WIDE_BITS.get(mask)
    if found is None:
        if len(_WIDE_BITS) >= WIDE_BITSETS_MEMO:
            _WIDE_BITS.clear()
        found = _WIDE_BITS[mask] = _bits(mask)
    return found


class _Bases(dict[int, float]):
    """Key length -> the similarity part of the fit bound of a phrasing whose key is that long,
    for questions whose key is `key_len` long: sim_floor + sim_span * (the ratio of the two
    lengths). A bound adds the precision's part, if any, then EPS, in that order (one
    expression: the same float every time). Computed on first use (`__missing__`); a hit is a
    plain dict lookup. `Formula.bases` keeps one table per question key length."""

    __slots__ = ("floor", "key_len", "span")

    def __init__(self, key_len: int, floor: float, span: float) -> None:
        super().__init__()
        self.key_len, self.floor, self.span = key_len, floor, span

    def __missing__(self, length: int) -> float:
        key_len = self.key_len
        both = key_len + length
        ratio = 1.0 - abs(key_len - length) / both if both else 1.0
        value = self[length] = self.floor + self.span * ratio
        return value


class PhrasingFit:
    """How well one question can fit each phrasing of a document: exact term precision, and
    upper bounds of the fit, per phrasing and per document.

    A phrasing's fit is at most the best similarity the lengths allow (rapidfuzz's ratio cannot
    beat the ratio of the two lengths) plus its precision's share. Re-scoring reads the bounds
    lazily: every candidate needs only its best bound (`figures`), which costs a lookup per
    question term and the phrasings that share a term with the question; the phrasings that
    share none are bounded together by the length nearest the question's, and each is bounded
    only when that bound could still matter.
    """

    __slots__ = (
        "_figures",
        "_seen",
        "bases",
        "floor",
        "idf",
        "key",
        "key_len",
        "precision_weight",
        "query_idf",
        "span",
    )

    def __init__(self, query: QueryAnalysis, idf: IdfTable, formula: Formula) -> None:
        self.key = query.key
        self.key_len = len(query.key)
        #: The question's terms with their IDF, in sorted term order: a phrasing's precision is
        #: summed in that order, which is the phrasing's own sorted term order.
        self.query_idf = {t: idf.get(t, 1.0) for t in sorted(query.terms)}
        self.idf = idf
        self.floor, self.span = formula.sim_floor, formula.sim_span
        self.precision_weight = formula.precision_weight
        #: key length -> the similarity part of a phrasing's bound (see `_Bases`).
        self.bases = formula.bases(self.key_len)
        # Tie-breaking and rescoring read the same documents: compute each figure once.
        self._figures: dict[Indexed, tuple[float, float, dict[int, float]]] = {}
        self._seen: dict[Indexed, list[tuple[float, int, float]]] = {}

    def figures(self, item: Indexed) -> tuple[float, float, dict[int, float]]:
        """(best bound, others' bound, shared) of `item`'s phrasings:
        - shared: position -> precision of each phrasing that shares a term with the question.
          Precision, the IDF-weighted share of the phrasing's terms that the question contains,
          is exact and reproducible to the last bit: the shared terms' IDF is summed (by `sum`)
          in the phrasing's sorted term order. Their bounds: `sharing`;
        - others' bound: at least the bound of every phrasing that shares no term: such a bound
          is the length ratio's alone, and the ratio of two lengths is largest for the length
          nearest the question's, just below or just above it (in floating point too: each step
          of it is monotonic);
        - best bound: the larger of the two, which is `phrasings(item)[0][0]` to the last bit
          (should the nearest-length phrasing share a term, its own bound is the higher).
        """
        found = self._figures.get(item)
        if found is None:
            found = self.figures_of([item])[0]
        return found

    def figures_of(self, items: list[Indexed]) -> list[tuple[float, float, dict[int, float]]]:
        """`figures` of each of `items`, in one loop (it runs for every candidate)."""
        memo = self._figures
        query_idf = tuple(self.query_idf.items())
        key_len, precision_weight = self.key_len, self.precision_weight
        bases = self.bases
        table = self.idf
        totals_of, total_of = table.phrasing_totals.get, table.total
        out: list[tuple[float, float, dict[int, float]]] = []
        append = out.append
        for item in items:
            found = memo.get(item)
            if found is not None:
                append(found)
                continue
            # position -> the IDF of the shared terms: one float, or a list of two or more.
            shared: dict[int, Any] = {}
            phrasings_of = item.term_phrasings.get
            for term, weight in query_idf:
                mask = phrasings_of(term)
                if mask is None:
                    continue
                for at in _BITS[mask] if mask < _BITS_LIMIT else _wide_bits(mask):
                    parts = shared.get(at)
                    if parts is None:
                        shared[at] = weight
                    elif type(parts) is float:
                        shared[at] = [parts, weight]
                    else:
                        parts.append(weight)
            lengths = item.lengths
            nearest = bisect_left(lengths, key_len)
            if nearest == len(lengths):
                nearest -= 1
            others = bases[lengths[nearest]]
            if nearest and (below := bases[lengths[nearest - 1]]) > others:
                others = below
            others = best = others + EPS
            if shared:
                keys = item.keys
                totals = totals_of(item) or ()  # this table's memo of the phrasings' totals
                for at, parts in shared.items():
                    total = totals[at] if totals else None
                    if total is None:
                        total = total_of(item, at)  # computed once per table and phrasing
                    # As `sum` adds them up (0 + a = a): the same float for one term or many.
                    precision = (parts if type(parts) is float else sum(parts)) / total if total else 0.0
                    shared[at] = precision
                    bound = bases[len(keys[at])] + precision_weight * precision + EPS
                    if bound > best:
                        best = bound
            found = memo[item] = (best, others, shared)
            append(found)
        return out

    def sharing(self, item: Indexed) -> list[tuple[float, int, float]]:
        """(fit bound, position, precision) of each phrasing of `item` that shares a term with
        the question, highest bound first."""
        shared = self.figures(item)[2]
        bases, keys, precision_weight = self.bases, item.keys, self.precision_weight
        out = [
            (bases[len(keys[at])] + precision_weight * precision + EPS, at, precision)
            for at, precision in shared.items()
        ]
        out.sort(reverse=True)
        return out

    def best(self, item: Indexed) -> float:
        """The highest fit bound of `item`'s phrasings (`phrasings(item)[0][0]`, see `figures`)."""
        return self.figures(item)[0]

    def phrasings(self, item: Indexed) -> list[tuple[float, int, float]]:
        """(fit bound, position, precision) of every phrasing of `item`, highest bound first
        (what exhaustive re-scoring and the tests read; re-scoring reads `figures`)."""
        out = self._seen.get(item)
        if out is None:
            shared = self.figures(item)[2]
            bases = self.bases
            out = self._seen[item] = [
                *self.sharing(item),
                *((bases[len(key)] + EPS, at, 0.0) for at, key in enumerate(item.keys) if at not in shared),
            ]
            out.sort(reverse=True)
        return out


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

    Only the `limit` best matches are wanted, so documents are scored most promising first, by
    an upper bound of their score (from their best phrasing bound, `PhrasingFit.figures`): once
    a bound is below the `limit`-th best score so far, that document and all after it are
    skipped. Within a document, a phrasing is skipped when its bound cannot beat the best fit
    so far or lift the document to that score: the phrasings sharing a term with the question
    are read first, best bound first; the others (bounded by their length alone) only while
    their common bound could still matter. A phrasing's plain ratio is computed first: with
    token_set_ratio at its most (100) it bounds the fit again, and token_set_ratio is computed
    only when that bound could still win. The order cannot change the result: a phrasing is
    skipped only when its bound is below a fit already found (or the floor), and the first
    phrasing wins a tie whatever the order, as in a plain pass in phrasing order.
    `exhaustive=True` scores every phrasing of every candidate instead.
    """
    if exhaustive:
        return _rescore_all(formula, query, ranked, fit)
    total = query.total_weight
    unknown_factor = formula.unknown_factor(query)
    penalties, score_of, key = formula.penalties, formula.score, query.key
    # A question that names nobody and asks for nobody's words meets no penalty anywhere.
    penalised = bool(query.entities or query.speaker)
    # `Formula.fit`, inlined: this is the innermost loop (the same expression, the same floats;
    # the exhaustive ranking, which calls `Formula.fit`, is held against this one in the tests).
    set_share, ratio_share = formula.set_share, formula.ratio_share
    sim_weight, precision_weight = formula.sim_weight, formula.precision_weight
    #: The similarity when token_set_ratio is perfect (100): with the plain ratio known, a
    #: phrasing's fit is bounded before token_set_ratio (the dearer of the two) is computed.
    set_perfect = set_share * 100.0
    bases = fit.bases
    # (-ceiling, rank, ...): ranks are distinct, so sorting never compares further.
    plans: list[tuple[float, int, Indexed, float, bool, bool, float, float, dict[int, float]]] = []
    every = fit.figures_of([item for item, _ in ranked])
    entity_miss = other_speaker = False
    for rank, ((item, raw_coverage), (best, others, shared)) in enumerate(zip(ranked, every, strict=True)):
        coverage = raw_coverage / total
        if penalised:
            entity_miss, other_speaker = penalties(query, item.doc)
        ceiling = score_of(coverage, best, entity_miss, unknown_factor, other_speaker)
        plans.append((-ceiling, rank, item, coverage, entity_miss, other_speaker, best, others, shared))
    plans.sort()
    best_scores: list[float] = []  # min-heap of the `limit` best scores so far
    found: list[tuple[int, Match]] = []
    for negative_ceiling, rank, item, coverage, entity_miss, other_speaker, best, others, shared in plans:
        floor = -math.inf  # the fit this document needs to reach the `limit` best
        if len(best_scores) >= limit:
            if -negative_ceiling < best_scores[0]:
                break  # sorted by ceiling: no later document can place either
            floor = formula.fit_needed(best_scores[0], coverage, entity_miss, other_speaker, unknown_factor)
            if best < floor:
                continue  # no phrasing can lift it to the `limit` best
        keys = item.keys
        best_fit, best_at, best_sim = -1.0, 0, 0.0
        if shared:
            # `PhrasingFit.sharing`, inlined: (bound, position, precision), highest bound first.
            sharing = [
                (bases[len(keys[at])] + precision_weight * precision + EPS, at, precision)
                for at, precision in shared.items()
            ]
            sharing.sort(reverse=True)
            for bound, at, precision in sharing:
                if bound < best_fit or bound < floor:
                    break  # sorted: no later one can fit better
                phrasing = keys[at]
                plain = ratio(key, phrasing)
                share = precision_weight * precision
                bound = sim_weight * ((set_perfect + ratio_share * plain) / 100.0) + share
                if bound + EPS < best_fit or bound + EPS < floor:
                    continue  # even a perfect token_set_ratio could not beat the best
                sim = (set_share * token_set_ratio(key, phrasing) + ratio_share * plain) / 100.0
                value = sim_weight * sim + share
                if value > best_fit or (value == best_fit and at < best_at):
                    best_fit, best_at, best_sim = value, at, sim
        if others >= best_fit and others >= floor and len(shared) < len(keys):
            for at, phrasing in enumerate(keys):
                if at in shared:
                    continue
                bound = bases[len(phrasing)] + EPS
                if bound < best_fit or bound < floor:
                    continue
                plain = ratio(key, phrasing)
                bound = sim_weight * ((set_perfect + ratio_share * plain) / 100.0)
                if bound + EPS < best_fit or bound + EPS < floor:
                    continue
                sim = (set_share * token_set_ratio(key, phrasing) + ratio_share * plain) / 100.0
                value = sim_weight * sim  # plus precision_weight * 0.0, which adds nothing
                if value > best_fit or (value == best_fit and at < best_at):
                    best_fit, best_at, best_sim = value, at, sim
        if best_fit < floor:
            continue  # every phrasing that could lift it was below the floor: it cannot place
        score = min(1.0, score_of(coverage, best_fit, entity_miss, unknown_factor, other_speaker))
        found.append((rank, Match(item.doc, score, coverage, best_sim, item.questions[best_at])))
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
