"""The retrieval engine: finds the document that answers a question, with a calibrated score.

Two stages keep it fast at any size: an inverted index over stemmed terms and entity ids picks
candidates, then only those candidates are re-scored with rapidfuzz against their phrasings.
Each scope (the curated base, each server) has its own index, so a question costs what its own
server's entries cost, not what all servers' entries together cost.

Score = COVERAGE_WEIGHT * coverage + (1 - COVERAGE_WEIGHT) * similarity, where
- coverage: the share of the question's information (IDF-weighted terms and entities) that the
  document contains; an unknown word counts against it, which is what makes "best pizza
  topping" score near zero instead of matching the nearest thing;
- similarity: how close the question is to the document's best phrasing (rapidfuzz).
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.core.documents import Document
from bot.core.entities import EntityLexicon, Mention
from bot.core.models import Scope
from bot.core.text import QUESTION_WORDS, STOP_WORDS, cased_tokens, stem

COVERAGE_WEIGHT = 0.5
#: Share of token_set_ratio (vs plain ratio) in phrasing similarity.
SET_RATIO_SHARE = 0.35
#: Within the phrasing fit: rapidfuzz similarity versus term precision.
PHRASE_SIM_WEIGHT = 0.5
#: Field weights: a term in a phrasing says more than one in the answer or excerpt.
PHRASING_FIELD = 1.0
BODY_FIELD = 0.55
#: Typo correction: a word the base does not know is read as its closest known word.
TYPO_MIN_CHARS = 4
TYPO_CUTOFF = 85.0
#: How many candidates from the term stage are re-scored with rapidfuzz.
RESCORE_LIMIT = 40
#: Question words ("when", "who") steer which fact is wanted but say less than topic words.
QUESTION_WORD_SCALE = 0.7
#: Query terms for words no document contains start with this (it never starts a real term).
UNKNOWN_PREFIX = "?"
#: Words that ask for what someone said, as stems.
SPEECH_STEMS = frozenset({"say", "tell", "quot", "remark", "comment", "speak", "claim", "word", "statement"})
#: A document quoting someone other than the person whose words are asked for.
OTHER_SPEAKER_FACTOR = 0.3
#: A name the source does not mention makes the bot decline, so a fuzzy match must be close.
UNKNOWN_ENTITY_MIN_SCORE = 0.9
#: Entities carry more information than ordinary words.
ENTITY_BOOST = 1.6
#: A document about none of the people/things the question names is demoted.
ENTITY_MISS_FACTOR = 0.55


def entity_term(entity_id: str) -> str:
    return f"@{entity_id}"


def _content(tokens: Iterable[str]) -> list[str]:
    """Words that are terms: not stop words. Question words are kept: "when" is not "where"."""
    return [t for t in tokens if t not in STOP_WORDS]


def asks_for_words(text: str) -> bool:
    """Whether a question asks what someone said."""
    return any(stem(t.lower()) in SPEECH_STEMS for t in cased_tokens(text))


def similarity_key(text: str) -> str:
    """What rapidfuzz compares: normalised words without stop words, question words kept."""
    return " ".join(t.lower() for t in cased_tokens(text) if t.lower() not in STOP_WORDS)


@dataclass
class _Indexed:
    doc: Document
    terms: dict[str, float]
    keys: tuple[str, ...]  # similarity keys of the distinct phrasings
    key_terms: tuple[frozenset[str], ...]  # the terms of each of those phrasings
    questions: tuple[str, ...]  # the phrasing each key came from
    words: Counter[str]


@dataclass
class ScopeIndex:
    """Inverted index over the documents of one scope."""

    docs: dict[str, _Indexed] = field(default_factory=dict)
    postings: dict[str, set[str]] = field(default_factory=dict)
    words: Counter[str] = field(default_factory=Counter)
    _sorted_words: list[str] | None = None

    def add(self, item: _Indexed) -> None:
        if item.doc.key in self.docs:
            self.remove(item.doc.key)
        self.docs[item.doc.key] = item
        for term in item.terms:
            self.postings.setdefault(term, set()).add(item.doc.key)
        self.words.update(item.words)
        self._sorted_words = None

    def remove(self, key: str) -> None:
        item = self.docs.pop(key, None)
        if item is None:
            return
        for term in item.terms:
            posting = self.postings.get(term)
            if posting is not None:
                posting.discard(key)
                if not posting:
                    del self.postings[term]
        self.words.subtract(item.words)
        for word in item.words:
            if self.words[word] <= 0:
                del self.words[word]
        self._sorted_words = None

    def sorted_words(self) -> list[str]:
        if self._sorted_words is None:
            self._sorted_words = sorted(self.words)
        return self._sorted_words


class IdfTable:
    """Inverse document frequency over the indexes visible in one scope, computed lazily.

    A term's weight is memoised until an index it reads from changes, so an edit costs
    nothing up front and a question pays only for the terms it uses.
    """

    def __init__(self, indexes: list[ScopeIndex]) -> None:
        self._indexes = indexes
        self._n_docs = sum(len(i.docs) for i in indexes) or 1
        self._memo: dict[str, float] = {}

    @property
    def unknown_weight(self) -> float:
        """The weight of a word no document contains: as informative as the rarest word."""
        return math.log(1.0 + (self._n_docs + 1) / 0.5)

    def get(self, term: str, default: float = 0.0) -> float:
        weight = self._memo.get(term)
        if weight is None:
            df = sum(len(i.postings.get(term, ())) for i in self._indexes)
            weight = math.log(1.0 + (self._n_docs + 1) / (df + 0.5))
            self._memo[term] = weight
        return weight


@dataclass(frozen=True)
class QueryAnalysis:
    text: str
    key: str
    terms: dict[str, float]  # term -> weight
    entities: frozenset[str]  # in-source entities named
    unknown_entities: tuple[str, ...]  # entity ids the source does not mention
    corrections: dict[str, str]  # typo -> known word
    oov: tuple[str, ...]  # words neither known nor correctable
    #: The person whose words are asked for ("What did Blinken say ..."), if any.
    speaker: str | None = None

    @property
    def total_weight(self) -> float:
        return sum(self.terms.values())

    @property
    def unknown_share(self) -> float:
        """The share of the question's weight carried by words no document contains."""
        total = self.total_weight
        return sum(w for t, w in self.terms.items() if t.startswith(UNKNOWN_PREFIX)) / total if total else 0.0


@dataclass(frozen=True)
class Match:
    doc: Document
    score: float
    coverage: float
    similarity: float
    best_question: str


class RetrievalEngine:
    def __init__(self, lexicon: EntityLexicon) -> None:
        self.lexicon = lexicon
        self._scopes: dict[Scope, ScopeIndex] = {}
        self._idf: dict[Scope, IdfTable] = {}

    # ---- building -----------------------------------------------------------------------
    def index_document(self, doc: Document) -> None:
        words: Counter[str] = Counter()
        terms: dict[str, float] = {}
        for text, weight in [*((q, PHRASING_FIELD) for q in doc.questions), (doc.body, BODY_FIELD)]:
            toks = [t.lower() for t in cased_tokens(text)]
            words.update(t for t in toks if t not in STOP_WORDS)
            for tok in _content(toks):
                term = stem(tok)
                terms[term] = max(terms.get(term, 0.0), weight)
        for entity_id in doc.mentioned:
            terms[entity_term(entity_id)] = BODY_FIELD
        for entity_id in doc.entities:
            terms[entity_term(entity_id)] = PHRASING_FIELD
        by_key: dict[str, str] = {}
        for question in doc.questions:
            by_key.setdefault(similarity_key(question), question)
        key_terms = tuple(self._phrasing_terms(q) for q in by_key.values())
        item = _Indexed(doc, terms, tuple(by_key), key_terms, tuple(by_key.values()), words)
        self._scopes.setdefault(doc.scope, ScopeIndex()).add(item)
        self._changed(doc.scope)

    def _phrasing_terms(self, question: str) -> frozenset[str]:
        cased = cased_tokens(question)
        mentions = self.lexicon.recognize_tokens(cased, frozenset())
        covered = {k for m in mentions for k in range(m.start, m.end)}
        terms = {entity_term(m.entity_id) for m in mentions}
        terms.update(
            stem(t.lower()) for i, t in enumerate(cased) if i not in covered and t.lower() not in STOP_WORDS
        )
        return frozenset(terms)

    def remove_document(self, scope: Scope, key: str) -> None:
        index = self._scopes.get(scope)
        if index is not None:
            index.remove(key)
            self._changed(scope)

    def clear_scope(self, scope: Scope) -> None:
        self._scopes.pop(scope, None)
        self._changed(scope)

    def _changed(self, scope: Scope) -> None:
        # The base is visible from every scope, so a base change invalidates every table.
        if scope is None:
            self._idf.clear()
        else:
            self._idf.pop(scope, None)

    def _idf_table(self, scope: Scope) -> IdfTable:
        table = self._idf.get(scope)
        if table is None:
            table = self._idf[scope] = IdfTable(self._visible(scope))
        return table

    def documents(self, scope: Scope) -> list[Document]:
        """Documents visible in `scope`: the base, plus the scope's own when it is a server."""
        out = [i.doc for i in self._index(None).docs.values()]
        if scope is not None:
            out.extend(i.doc for i in self._index(scope).docs.values())
        return out

    def document(self, scope: Scope, key: str) -> Document | None:
        for index in self._visible(scope):
            item = index.docs.get(key)
            if item is not None:
                return item.doc
        return None

    def _index(self, scope: Scope) -> ScopeIndex:
        return self._scopes.get(scope) or ScopeIndex()

    def _visible(self, scope: Scope) -> list[ScopeIndex]:
        if scope is None:
            return [self._index(None)]
        return [self._index(scope), self._index(None)]

    # ---- analysing a question --------------------------------------------------------------
    def analyze(self, question: str, scope: Scope = None) -> QueryAnalysis:
        indexes = self._visible(scope)
        cased = cased_tokens(question)
        lower = [t.lower() for t in cased]
        vocabulary: set[str] = set()
        for index in indexes:
            vocabulary.update(t for t in lower if t in index.words)
        mentions = self.lexicon.recognize_tokens(cased, vocabulary)
        covered = {k for m in mentions for k in range(m.start, m.end)}
        idf = self._idf_table(scope).get
        oov_weight = self._idf_table(scope).unknown_weight
        terms: dict[str, float] = {}
        known_entities: set[str] = set()
        unknown: list[str] = []
        for mention in mentions:
            if mention.in_source:
                known_entities.add(mention.entity_id)
                term = entity_term(mention.entity_id)
                terms[term] = max(terms.get(term, 0.0), ENTITY_BOOST * idf(term) * mention.score)
            elif mention.score >= UNKNOWN_ENTITY_MIN_SCORE:
                unknown.append(mention.entity_id)
        corrections: dict[str, str] = {}
        oov: list[str] = []
        for pos, tok in enumerate(lower):
            if pos in covered or tok in STOP_WORDS:
                continue
            if tok in QUESTION_WORDS:
                # What is asked (a time, a place, a person) matters, but less than the topic.
                term = stem(tok)
                terms[term] = max(terms.get(term, 0.0), QUESTION_WORD_SCALE * idf(term))
                continue
            weight_scale = 1.0
            if tok not in vocabulary and not any(stem(tok) in i.postings for i in indexes):
                fixed = self._correct(tok, indexes)
                if fixed is None:
                    oov.append(tok)
                    terms[UNKNOWN_PREFIX + tok] = oov_weight
                    continue
                corrections[tok] = fixed[0]
                tok, weight_scale = fixed
            term = stem(tok)
            terms[term] = max(terms.get(term, 0.0), idf(term) * weight_scale)
        key_words = [corrections.get(t, t) for t in lower if t not in STOP_WORDS]
        speaker = self._speaker(lower, mentions)
        return QueryAnalysis(
            text=question,
            key=" ".join(key_words),
            terms=terms,
            entities=frozenset(known_entities),
            unknown_entities=tuple(dict.fromkeys(unknown)),
            corrections=corrections,
            oov=tuple(oov),
            speaker=speaker,
        )

    def _speaker(self, lower: list[str], mentions: list[Mention]) -> str | None:
        """The person nearest a speech verb ("say", "quote", "remarks"), preferring one before it."""
        verbs = [i for i, t in enumerate(lower) if stem(t) in SPEECH_STEMS]
        people = [m for m in mentions if m.in_source and self._is_person(m.entity_id)]
        if not verbs or not people:
            return None
        verb = verbs[0]
        before = [m for m in people if m.end <= verb]
        chosen = before[-1] if before else min(people, key=lambda m: m.start - verb)
        return str(chosen.entity_id)

    def _is_person(self, entity_id: str) -> bool:
        entity = self.lexicon.get(entity_id)
        return entity is not None and entity.kind == "person"

    def has_speaker(self, entity_id: str) -> bool:
        """Whether any document quotes this entity's own words."""
        return any(
            entity_id in item.doc.speakers for index in self._scopes.values() for item in index.docs.values()
        )

    @staticmethod
    def _correct(token: str, indexes: list[ScopeIndex]) -> tuple[str, float] | None:
        if len(token) < TYPO_MIN_CHARS or not token.isalpha():
            return None
        best: tuple[str, float] | None = None
        for index in indexes:
            # Typos rarely change a word's length by more than two letters: search that band only.
            choices = [w for w in index.sorted_words() if abs(len(w) - len(token)) <= 2]
            found = process.extractOne(token, choices, scorer=fuzz.ratio, score_cutoff=TYPO_CUTOFF)
            if found is not None and (best is None or found[1] / 100.0 > best[1]):
                best = (found[0], found[1] / 100.0)
        return best

    # ---- searching -------------------------------------------------------------------------
    def search(self, question: str, scope: Scope = None, limit: int = 5) -> tuple[QueryAnalysis, list[Match]]:
        query = self.analyze(question, scope)
        total = query.total_weight
        if total <= 0:
            return query, []
        coverage: dict[tuple[int, str], float] = {}
        items: dict[tuple[int, str], _Indexed] = {}
        for n, index in enumerate(self._visible(scope)):
            for term, weight in query.terms.items():
                for key in index.postings.get(term, ()):
                    item = index.docs[key]
                    coverage[(n, key)] = coverage.get((n, key), 0.0) + weight * item.terms[term]
                    items[(n, key)] = item
        if not coverage:
            return query, []
        ranked = sorted(coverage, key=coverage.__getitem__, reverse=True)[:RESCORE_LIMIT]
        idf = self._idf_table(scope)
        matches = [self._score(query, items[k], coverage[k] / total, idf) for k in ranked]
        matches.sort(key=lambda m: m.score, reverse=True)
        return query, matches[:limit]

    def _score(self, query: QueryAnalysis, item: _Indexed, coverage: float, idf: IdfTable) -> Match:
        """Coverage of the question by the document, blended with how well its best phrasing fits.

        A phrasing fits when it reads like the question (rapidfuzz similarity) and says nothing
        the question does not ask about (precision: its IDF-weighted terms found in the question).
        """
        best_fit, best_at, best_sim = -1.0, 0, 0.0
        for at, (key, terms) in enumerate(zip(item.keys, item.key_terms, strict=True)):
            sim = _phrase_similarity(query.key, key) / 100.0
            total = sum(idf.get(t, 1.0) for t in terms)
            precision = sum(idf.get(t, 1.0) for t in terms if t in query.terms) / total if total else 0.0
            fit = PHRASE_SIM_WEIGHT * sim + (1.0 - PHRASE_SIM_WEIGHT) * precision
            if fit > best_fit:
                best_fit, best_at, best_sim = fit, at, sim
        score = COVERAGE_WEIGHT * coverage + (1.0 - COVERAGE_WEIGHT) * best_fit
        if query.entities and not (query.entities & item.doc.entities):
            score *= ENTITY_MISS_FACTOR
        # A question whose unexplained words carry much of its weight is about something else.
        score *= math.sqrt(1.0 - query.unknown_share)
        if query.speaker and item.doc.speakers and query.speaker not in item.doc.speakers:
            # "What did Putin say?" must not be answered with Blinken's words about Putin.
            score *= OTHER_SPEAKER_FACTOR
        return Match(item.doc, min(1.0, score), coverage, best_sim, item.questions[best_at])

    # ---- autocomplete ----------------------------------------------------------------------
    def autocomplete(self, text: str, scope: Scope = None, limit: int = 25) -> list[str]:
        """Known phrasings that best continue what the user has typed, best first."""
        indexes = self._visible(scope)
        typed = [t.lower() for t in cased_tokens(text)]
        if not typed:
            return [
                i.doc.title for idx in reversed(indexes) for i in idx.docs.values() if i.doc.kind == "entry"
            ][:limit]
        # Complete the word being typed: "hiro" reaches "hiroshima".
        prefix = typed[-1]
        extra: list[str] = []
        for index in indexes:
            words = index.sorted_words()
            at = bisect.bisect_left(words, prefix)
            while at < len(words) and words[at].startswith(prefix) and len(extra) < 8:
                extra.append(words[at])
                at += 1
        _, matches = self.search(" ".join([*typed, *extra]), scope, limit=limit)
        key = similarity_key(text)
        scored: dict[str, float] = {}
        for match in matches:
            for question in match.doc.questions:
                sim = fuzz.WRatio(key, similarity_key(question)) / 100.0
                scored[question] = max(scored.get(question, 0.0), 0.5 * match.score + 0.5 * sim)
        return sorted(scored, key=scored.__getitem__, reverse=True)[:limit]


def _phrase_similarity(a: str, b: str, **_: object) -> float:
    # token_set_ratio forgives extra words, ratio punishes them: the blend prefers the phrasing
    # that says what the question says, no more and no less. token_set_ratio alone would rate a
    # one-word phrasing ("nuclear") a perfect match for any question containing that word.
    return SET_RATIO_SHARE * fuzz.token_set_ratio(a, b) + (1.0 - SET_RATIO_SHARE) * fuzz.ratio(a, b)
