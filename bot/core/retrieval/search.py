"""The retrieval engine: one index per scope, candidates by term, re-scoring, autocomplete.

The candidate stage sums postings per document, except a large index's common terms ("who",
"meeting"): those are ranked with per-term bitsets, so thousands of postings cost a few big-int
operations (`_candidates`, `_dense_classes`). Ties at the re-scoring cut-off are broken by how
well a document could fit, then by age (`_break_ties`), not by hash order, so answers do not
change from one process to the next.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import islice
from operator import attrgetter, itemgetter

from rapidfuzz import fuzz, process

from bot.core.documents import Document
from bot.core.entities import EntityLexicon
from bot.core.models import Scope
from bot.core.retrieval.index import IdfTable, Indexed, ScopeIndex, document_fields
from bot.core.retrieval.query import QueryAnalysis, QueryAnalyzer
from bot.core.retrieval.scoring import EPS, Formula, Match, PhrasingFit, rescore
from bot.core.retrieval.terms import similarity_key
from bot.core.retrieval.weights import DEFAULT_WEIGHTS, Weights
from bot.core.text import cased_tokens

#: How many candidates from the term stage are re-scored with rapidfuzz.
RESCORE_LIMIT = 40
#: Documents tied at the re-scoring cut-off that are ranked by how well they could fit, oldest first.
TIE_POOL = 64
#: At most this many of a question's common terms are searched with bitsets; more are summed.
MAX_DENSE_TERMS = 6
#: Documents whose phrasings autocomplete ranks (about ten phrasings each).
AUTOCOMPLETE_DOCS = 12
#: Known words that complete the word being typed, added to an autocomplete search.
AUTOCOMPLETE_WORDS = 8


@dataclass(frozen=True)
class Ranking:
    """What `RetrievalEngine.rank` found: the analysed question, the candidates it re-scored
    (documents with their coverage weight, best first) and the best matches, best first."""

    query: QueryAnalysis
    candidates: list[tuple[Document, float]]
    matches: list[Match]


@dataclass(frozen=True, slots=True)
class _DenseTerm:
    """A common query term as the bitset search reads it."""

    weight: float
    order: int  # position in the question's terms
    bits: dict[float, int]  # field weight -> documents
    posting: dict[Indexed, float]


#: A document's age (insertion sequence), and the coverage of a (document, coverage) pair.
_age = attrgetter("seq")
_coverage_of = itemgetter(1)


def _kth_value(counted: list[tuple[float, int]], k: int) -> float:
    """The k-th largest value of (value, how many) pairs; minus infinity when there are fewer."""
    seen = 0
    for value, count in sorted(counted, key=lambda pair: pair[0], reverse=True):
        seen += count
        if seen >= k:
            return value
    return -math.inf


class RetrievalEngine:
    """Finds the documents that answer a question, with a calibrated score (see `scoring`).

    Each scope (the curated base, each server) has its own index; a server sees the base and
    its own documents, so a question costs what its own server's entries cost.
    """

    def __init__(
        self,
        lexicon: EntityLexicon,
        synonyms: Mapping[str, str] | None = None,
        weights: Weights = DEFAULT_WEIGHTS,
    ) -> None:
        self.lexicon = lexicon
        self.weights = weights
        self.formula = Formula(weights)
        self._analyzer = QueryAnalyzer(lexicon, synonyms or {}, weights)
        self._scopes: dict[Scope, ScopeIndex] = {}
        self._idf: dict[Scope, IdfTable] = {}
        self._empty = ScopeIndex(weights)  # the index of a scope without documents (never written to)
        self._seq = 0

    # ---- building -----------------------------------------------------------------------
    def fields_of(self, doc: Document) -> tuple[dict[str, float], dict[str, None]]:
        """What `index_document` reads of `doc` (its terms and words): the costly part, which
        needs no index and so may run on another thread."""
        return document_fields(doc, self.weights)

    def index_document(
        self, doc: Document, fields: tuple[dict[str, float], dict[str, None]] | None = None
    ) -> None:
        """Add `doc` to its scope's index, or replace the document of that scope with its key
        (`fields`, when given, are `fields_of(doc)`, read beforehand)."""
        terms, words = fields if fields is not None else document_fields(doc, self.weights)
        self._seq += 1
        item = Indexed.build(doc, self.lexicon, self._seq)
        if doc.kind == "decline":
            # Small talk is matched through its terms, but its words ("thanks") must never become
            # typo targets: "tanks" is not a misspelt "thanks".
            words = {}
        index = self._scopes.get(doc.scope)
        if index is None:
            index = self._scopes[doc.scope] = ScopeIndex(self.weights)
        index.add(item, terms, words)
        self._changed(doc.scope)

    def remove_document(self, scope: Scope, key: str) -> None:
        index = self._scopes.get(scope)
        if index is not None:
            index.remove(key)
            self._changed(scope)

    def _changed(self, scope: Scope) -> None:
        # The base is visible from every scope, so a base change invalidates every table.
        if scope is None:
            self._idf.clear()
        else:
            self._idf.pop(scope, None)

    def _idf_table(self, scope: Scope) -> IdfTable:
        if scope not in self._scopes:
            scope = None  # a server without entries sees exactly the base: share its table
        table = self._idf.get(scope)
        if table is None:
            table = self._idf[scope] = IdfTable(self._visible(scope))
        return table

    # ---- reading --------------------------------------------------------------------------
    def documents(self, scope: Scope) -> list[Document]:
        """Documents visible in `scope`: the base, plus the scope's own when it is a server."""
        out = [i.doc for i in self.index_of(None).docs.values()]
        if scope is not None:
            out.extend(i.doc for i in self.index_of(scope).docs.values())
        return out

    def document(self, scope: Scope, key: str) -> Document | None:
        for index in self._visible(scope):
            item = index.docs.get(key)
            if item is not None:
                return item.doc
        return None

    def index_of(self, scope: Scope) -> ScopeIndex:
        """The index of `scope`'s own documents (the base's for None; an empty one for a server
        without entries). For reading: change documents with `index_document`/`remove_document`."""
        return self._scopes.get(scope) or self._empty

    def _visible(self, scope: Scope) -> list[ScopeIndex]:
        if scope is None:
            return [self.index_of(None)]
        return [self.index_of(scope), self.index_of(None)]

    # ---- analysing a question --------------------------------------------------------------
    def analyze(self, question: str, scope: Scope = None) -> QueryAnalysis:
        return self._analyzer.analyze(question, self._visible(scope), self._idf_table(scope))

    def voices(self, entity_id: str) -> frozenset[str]:
        """The entity itself, and for a country its people (Japan -> Hayashi, Hamada)."""
        return self._analyzer.voices(entity_id)

    def has_speaker_in(self, entity_id: str, scope: Scope) -> bool:
        """Whether a document visible in `scope` (the base, and the server's own) quotes the
        entity or, for a country, one of its people."""
        voices = self.voices(entity_id)
        return any(index.speakers[v] > 0 for index in self._visible(scope) for v in voices)

    # ---- searching -------------------------------------------------------------------------
    def search(self, question: str, scope: Scope = None, limit: int = 5) -> tuple[QueryAnalysis, list[Match]]:
        """The analysed question and its `limit` best matches, best first."""
        query, _, matches = self._rank(question, scope, limit, exhaustive=False)
        return query, matches

    def rank(
        self, question: str, scope: Scope = None, limit: int = 5, *, exhaustive: bool = False
    ) -> Ranking:
        """What `search` finds, with the candidates it re-scored.

        `exhaustive=True` turns off every shortcut that only saves work: candidates are found by
        summing every posting (no bitsets), and every phrasing of every candidate is scored (no
        bounds). Which documents a large tie lets through (`TIE_POOL`) is a rule, not a shortcut,
        and applies to both. The results must be the same; tests hold one against the other.
        """
        query, ranked, matches = self._rank(question, scope, limit, exhaustive)
        return Ranking(query, [(item.doc, coverage) for item, coverage in ranked], matches)

    def _rank(
        self, question: str, scope: Scope, limit: int, exhaustive: bool
    ) -> tuple[QueryAnalysis, list[tuple[Indexed, float]], list[Match]]:
        query = self.analyze(question, scope)
        if query.total_weight <= 0:
            return query, [], []
        fit = PhrasingFit(query, self._idf_table(scope), self.formula)
        ranked = self._candidates(query, self._visible(scope), fit, exhaustive)
        if not ranked:
            return query, [], []
        matches = rescore(self.formula, query, ranked, fit, limit, exhaustive=exhaustive)
        matches.sort(key=lambda m: m.score, reverse=True)
        return query, ranked, matches[:limit]

    def _candidates(
        self, query: QueryAnalysis, indexes: list[ScopeIndex], fit: PhrasingFit, exhaustive: bool
    ) -> list[tuple[Indexed, float]]:
        """The RESCORE_LIMIT documents with the highest coverage weight, best first.

        Postings are summed per document, except the largest index's common terms (see
        `ScopeIndex.dense`): those only update the documents the other terms found, and the
        documents only they reach are ranked as classes of equal coverage, with bitsets
        (`_dense_classes`). Ties at the cut-off are broken by `_break_ties`.
        """
        terms = list(query.terms.items())
        big = max(indexes, key=lambda index: len(index.docs))
        dense: list[_DenseTerm] = []
        if big.dense and not exhaustive:
            frequent = [
                (len(big.postings[term]), order, term, weight)
                for order, (term, weight) in enumerate(terms)
                if term in big.dense
            ]
            # The longest posting lists gain most; heaviest first gives tight bounds early.
            frequent.sort(key=lambda c: (-c[0], c[1]))
            dense = [
                _DenseTerm(weight, order, big.dense[term], big.postings[term])
                for _, order, term, weight in frequent[:MAX_DENSE_TERMS]
            ]
            dense.sort(key=lambda d: (-d.weight, d.order))
        skip = {terms[d.order][0] for d in dense}
        acc: dict[Indexed, float] = {}
        get = acc.get
        for term, weight in terms:
            for index in indexes:
                if index is big and term in skip:
                    continue
                posting = index.postings.get(term)
                if posting:
                    for item, f in posting.items():
                        acc[item] = get(item, 0.0) + weight * f
        classes: list[tuple[float, int]] = []
        if dense:
            for item in acc:
                for common in dense:
                    field_weight = common.posting.get(item)
                    if field_weight is not None:
                        acc[item] += common.weight * field_weight
            classes = self._dense_classes(dense, big, acc)
        if not classes and len(acc) <= RESCORE_LIMIT:
            # Fewer documents than places (a small base): every one is re-scored, none is tied.
            theta, chosen, tied = -math.inf, list(acc), []
        else:
            counted = [(v, 1) for v in heapq.nlargest(RESCORE_LIMIT, acc.values())]
            counted.extend((value, bits.bit_count()) for value, bits in classes)
            theta = _kth_value(counted, RESCORE_LIMIT)
            chosen = [item for item, v in acc.items() if v > theta]
            tied = [item for item, v in acc.items() if v == theta]
        for value, bits in classes:
            if value > theta:
                chosen.extend(big.oldest(bits, bits.bit_count()))
            elif value == theta:
                tied.extend(big.oldest(bits, max(TIE_POOL, RESCORE_LIMIT)))
        if tied:
            chosen.extend(self._break_ties(query, tied, RESCORE_LIMIT - len(chosen), fit))
        # Highest coverage first, oldest first among equals: by age here, then (a stable sort)
        # by coverage.
        chosen.sort(key=_age)
        if dense:
            # Coverage summed in the question's term order, exactly as a full scan would.
            ranked = list(zip(chosen, self._coverage(query, chosen, indexes), strict=True))
        else:
            ranked = [(item, acc[item]) for item in chosen]  # already summed in that order
        ranked.sort(key=_coverage_of, reverse=True)
        return ranked

    def _dense_classes(
        self, dense: list[_DenseTerm], index: ScopeIndex, acc: dict[Indexed, float]
    ) -> list[tuple[float, int]]:
        """Documents of `index` that only common terms reach, as (coverage, bitset) classes.

        A best-first search splits the documents by which common terms they have, and with
        which field weight, heaviest term first; a branch is explored only while the most it
        could reach is not below the current RESCORE_LIMIT-th best coverage. Leaves are classes
        of documents with equal coverage, found best first.
        """
        top = heapq.nlargest(RESCORE_LIMIT, acc.values())
        unions: list[int] = []
        reach = 0
        for term in dense:
            union = 0
            for bits in term.bits.values():
                union |= bits
            unions.append(union)
            reach |= union
        start = reach & ~index.slot_bits(acc)
        if not start:
            return []
        max_field = self.weights.max_field
        bound = [0.0] * (len(dense) + 1)  # bound[i]: the most terms i.. can add
        for i in range(len(dense) - 1, -1, -1):
            bound[i] = bound[i + 1] + dense[i].weight * max_field
        tick = 0
        heap: list[tuple[float, int, float, int, int]] = [(-bound[0], tick, 0.0, 0, start)]
        found: list[tuple[float, int]] = []
        counted = [(v, 1) for v in top]
        theta = _kth_value(counted, RESCORE_LIMIT)
        while heap:
            ceiling, _, value, depth, bits = heap[0]
            if -ceiling < theta - EPS:
                break
            heapq.heappop(heap)
            if depth == len(dense):
                found.append((value, bits))
                counted.append((value, bits.bit_count()))
                theta = _kth_value(counted, RESCORE_LIMIT)
                continue
            term = dense[depth]
            children = [(value + term.weight * f, bits & fbits) for f, fbits in term.bits.items()]
            children.append((value, bits & ~unions[depth]))
            for child_value, child_bits in children:
                if child_bits:
                    tick += 1
                    heapq.heappush(
                        heap, (-(child_value + bound[depth + 1]), tick, child_value, depth + 1, child_bits)
                    )
        return found

    @staticmethod
    def _coverage(query: QueryAnalysis, items: list[Indexed], indexes: list[ScopeIndex]) -> list[float]:
        """The coverage weight of each of `items`, summed in the question's term order (as a
        full scan sums it), from the first index that has the document for a term."""
        postings = [
            (weight, [posting for index in indexes if (posting := index.postings.get(term)) is not None])
            for term, weight in query.terms.items()
        ]
        out: list[float] = []
        for item in items:
            coverage = 0.0
            for weight, found_in in postings:
                for posting in found_in:
                    f = posting.get(item)
                    if f is not None:
                        coverage += weight * f
                        break
            out.append(coverage)
        return out

    def _break_ties(
        self, query: QueryAnalysis, tied: list[Indexed], need: int, fit: PhrasingFit
    ) -> list[Indexed]:
        """Which of the documents tied at the cut-off are re-scored: those whose best phrasing
        could fit the question best (the final score differs only there), then the oldest.

        Deterministic, where insertion order used to decide; very large ties (a one-word question
        against thousands of entries) rank only the TIE_POOL oldest: the curated base, then older entries.
        """
        if len(tied) <= need:
            return tied
        pool = max(TIE_POOL, need)
        if len(tied) > pool:
            tied = heapq.nsmallest(pool, tied, key=lambda item: item.seq)
        penalties, factor = self.formula.penalties, self.formula.factor
        unknown_factor = self.formula.unknown_factor(query)
        # (minus how well it could fit, age): ages are distinct, so documents are never compared.
        promise = [
            (-best * factor(*penalties(query, item.doc), unknown_factor), item.seq, item)
            for item, (best, _, _) in zip(tied, fit.figures_of(tied), strict=True)
        ]
        return [item for _, _, item in heapq.nsmallest(need, promise)]

    # ---- autocomplete ----------------------------------------------------------------------
    def autocomplete(self, text: str, scope: Scope = None, limit: int = 25) -> list[str]:
        """Known phrasings that best continue what the user has typed, best first."""
        indexes = self._visible(scope)
        typed = [t.lower() for t in cased_tokens(text)]
        if not typed:
            titles = (
                i.doc.title for idx in reversed(indexes) for i in idx.docs.values() if i.doc.kind == "entry"
            )
            return list(islice(titles, limit))
        # Complete the word being typed: "hiro" reaches "hiroshima".
        prefix = typed[-1]
        extra: list[str] = []
        for index in indexes:
            extra.extend(index.vocab.with_prefix(prefix, AUTOCOMPLETE_WORDS - len(extra)))
        # The best few documents hold far more phrasings than a choice list shows.
        _, matches = self.search(" ".join([*typed, *extra]), scope, limit=min(limit, AUTOCOMPLETE_DOCS))
        if not matches:
            return []
        key = similarity_key(text)
        formula = self.formula
        suggestion = formula.suggestion
        scored: dict[str, float] = {}
        # The `limit` best first scores of distinct phrasings: a lower bound of the final
        # `limit`-th best, since a phrasing's score only rises when another match repeats it.
        floor: list[float] = []
        for match in matches:
            if match.doc.kind == "decline":
                continue  # small talk is recognised, never offered as a question to ask
            pruning = len(floor) >= limit
            # Matches come best first and a phrasing scores at most what a perfect similarity
            # gives: once that is below the floor, no later match can place a phrasing.
            if pruning and suggestion(match.score, 1.0) < floor[0]:
                break
            item = self._scopes[match.doc.scope].docs[match.doc.key]
            # A phrasing below the floor cannot place: rapidfuzz may stop early on those (they are
            # left out of the results; the margin keeps ties at the floor in).
            cutoff = formula.suggestion_cutoff(floor[0], match.score) if pruning else 0.0
            # One batched call per document: rapidfuzz prepares the typed text once.
            found = process.extract(
                key, item.question_keys, scorer=fuzz.WRatio, processor=None, limit=None, score_cutoff=cutoff
            )
            sims: list[float | None] = [None] * len(item.question_keys)
            for _, value, at in found:
                sims[at] = value
            for question, similarity in zip(match.doc.questions, sims, strict=True):
                if similarity is None:
                    # Below the floor: it cannot place, but keeps its place in the order of ties.
                    scored.setdefault(question, -1.0)
                    continue
                score = suggestion(match.score, similarity / 100.0)
                known = scored.get(question)
                if known is None or known < 0.0:
                    scored[question] = score
                    if len(floor) < limit:
                        heapq.heappush(floor, score)
                    elif score > floor[0]:
                        heapq.heapreplace(floor, score)
                elif score > known:
                    scored[question] = score
        return sorted(scored, key=scored.__getitem__, reverse=True)[:limit]
