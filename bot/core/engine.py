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

Both stages skip work that cannot change the result, and tests/core/test_engine_scale.py checks
each shortcut against the plain computation it replaces:
- the candidate stage sums postings per document, except a large index's common terms ("who",
  "meeting"): those are ranked with per-term bitsets, so thousands of postings cost a few
  big-int operations (`_candidates`, `_dense_classes`);
- rescoring takes the most promising documents first and skips documents, and phrasings, whose
  best possible score is already beaten (`_rescore`);
- ties at the re-scoring cut-off are broken by how well a document could fit, then by age
  (`_break_ties`), not by hash order, so answers do not change from one process to the next.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from sys import intern
from typing import Final

from rapidfuzz import fuzz, process

from bot.core.documents import Document
from bot.core.english import is_english_word, same_word
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
#: Typos rarely change a word's length by more than this many letters.
TYPO_LENGTH_BAND = 2
#: How many candidates from the term stage are re-scored with rapidfuzz.
RESCORE_LIMIT = 40
#: Documents tied at the re-scoring cut-off that are ranked by how well they could fit, oldest first.
TIE_POOL = 64
#: A term in this many documents of one index also gets bitsets (see `ScopeIndex.dense`)...
DENSE_MIN = 256
#: ... and loses them when it falls below this many (hysteresis: no flapping around the line).
DENSE_DROP = 128
#: At most this many of a question's common terms are searched with bitsets; more are summed.
MAX_DENSE_TERMS = 6
#: Free slots tolerated before an index renumbers its documents (see `ScopeIndex.slots`).
COMPACT_MIN = 1024
#: A word read through the synonym list counts a little less than the word itself.
SYNONYM_SCALE = 0.9
#: Documents whose phrasings autocomplete ranks (about ten phrasings each).
AUTOCOMPLETE_DOCS = 12
#: Question words ("when", "who") steer which fact is wanted but say less than topic words.
QUESTION_WORD_SCALE = 0.7
#: Query terms for words no document contains start with this (it never starts a real term).
UNKNOWN_PREFIX = "?"
#: Words that ask for what someone said, as stems.
SPEECH_STEMS = frozenset({"say", "tell", "quot", "remark", "comment", "speak", "claim", "word", "statement"})
#: Words that introduce whose words follow ("a quote from Austin", "remarks by Blinken").
SOURCE_WORDS = frozenset({"from", "by", "of"})
ARTICLES = frozenset({"the", "a", "an", "us", "japan", "japanese", "american"})
#: Kinds of entity whose words a question can ask for.
SPEAKING_KINDS = frozenset({"person", "country", "organization"})
#: A document quoting someone other than the person whose words are asked for.
OTHER_SPEAKER_FACTOR = 0.3
#: A name the source does not mention makes the bot decline, so a fuzzy match must be close.
UNKNOWN_ENTITY_MIN_SCORE = 0.9
#: Entities carry more information than ordinary words.
ENTITY_BOOST = 1.6
#: A document about none of the people/things the question names is demoted.
ENTITY_MISS_FACTOR = 0.55

#: The most one term can add to a document's coverage per unit of query weight.
_MAX_FIELD: Final = max(PHRASING_FIELD, BODY_FIELD)
#: Slack for float rounding in upper bounds: a bound must never fall below the exact value.
_EPS: Final = 1e-9
_RATIO_SHARE: Final = 1.0 - SET_RATIO_SHARE
_PRECISION_WEIGHT: Final = 1.0 - PHRASE_SIM_WEIGHT
#: Bounded memo of typo corrections per vocabulary (cleared when its words change).
_TYPO_MEMO_SIZE: Final = 4096


def entity_term(entity_id: str) -> str:
    return f"@{entity_id}"


def _content(tokens: Iterable[str]) -> list[str]:
    """Words that are terms: not stop words. Question words are kept: "when" is not "where"."""
    return [t for t in tokens if t not in STOP_WORDS]


def _introduced_by_source_word(lower: list[str], start: int) -> bool:
    at = start - 1
    while at >= 0 and lower[at] in ARTICLES:
        at -= 1
    return at >= 0 and lower[at] in SOURCE_WORDS


def asks_for_words(text: str) -> bool:
    """Whether a question asks what someone said."""
    return any(stem(t.lower()) in SPEECH_STEMS for t in cased_tokens(text))


def similarity_key(text: str) -> str:
    """What rapidfuzz compares: normalised words without stop words, question words kept."""
    return " ".join(t.lower() for t in cased_tokens(text) if t.lower() not in STOP_WORDS)


def _document_fields(doc: Document) -> tuple[dict[str, float], dict[str, None]]:
    """A document's terms with their field weight, and its distinct words.

    Interned: thousands of documents then share one string per term instead of a copy each.
    """
    words: dict[str, None] = {}
    terms: dict[str, float] = {}
    for text, weight in [*((q, PHRASING_FIELD) for q in doc.questions), (doc.body, BODY_FIELD)]:
        toks = [t.lower() for t in cased_tokens(text)]
        for tok in _content(toks):
            words[intern(tok)] = None
            term = intern(stem(tok))
            terms[term] = max(terms.get(term, 0.0), weight)
    for entity_id in doc.mentioned:
        terms[intern(entity_term(entity_id))] = BODY_FIELD
    for entity_id in doc.entities:
        terms[intern(entity_term(entity_id))] = PHRASING_FIELD
    return terms, words


class Vocabulary:
    """The known words of one index: membership, prefix lookup and typo correction.

    Kept sorted, and bucketed by length, as words come and go, so an edit costs a few list
    insertions instead of re-sorting every word, and typo correction reads only the words
    whose length is within TYPO_LENGTH_BAND of the typed word.
    """

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}  # word -> documents using it
        self._sorted: list[str] = []
        self._by_len: dict[int, list[str]] = {}
        self._typos: dict[str, tuple[str, float] | None] = {}

    def __contains__(self, word: object) -> bool:
        return word in self._counts

    def __len__(self) -> int:
        return len(self._counts)

    def __iter__(self) -> Iterator[str]:
        return iter(self._sorted)

    def add(self, words: Iterable[str]) -> None:
        counts = self._counts
        for word in words:
            n = counts.get(word)
            if n:
                counts[word] = n + 1
                continue
            counts[word] = 1
            bisect.insort(self._sorted, word)
            bisect.insort(self._by_len.setdefault(len(word), []), word)
            self._typos.clear()

    def remove(self, words: Iterable[str]) -> None:
        counts = self._counts
        for word in words:
            n = counts.get(word)
            if n is None:
                continue
            if n > 1:
                counts[word] = n - 1
                continue
            del counts[word]
            _discard_sorted(self._sorted, word)
            bucket = self._by_len[len(word)]
            _discard_sorted(bucket, word)
            if not bucket:
                del self._by_len[len(word)]
            self._typos.clear()

    def with_prefix(self, prefix: str, limit: int) -> list[str]:
        """Up to `limit` known words starting with `prefix`, in alphabetical order."""
        words = self._sorted
        at = bisect.bisect_left(words, prefix)
        out: list[str] = []
        while at < len(words) and len(out) < limit and words[at].startswith(prefix):
            out.append(words[at])
            at += 1
        return out

    def closest(self, token: str) -> tuple[str, float] | None:
        """The known word most like `token` (fuzz.ratio >= TYPO_CUTOFF), alphabetically first on ties.

        Only words within TYPO_LENGTH_BAND letters of the token's length are read.
        """
        if token in self._typos:
            return self._typos[token]
        best: tuple[str, float] | None = None
        cutoff = TYPO_CUTOFF
        size = len(token)
        for length in range(size - TYPO_LENGTH_BAND, size + TYPO_LENGTH_BAND + 1):
            bucket = self._by_len.get(length)
            if not bucket:
                continue
            # extractOne keeps the first of equal scores, i.e. the alphabetically first word.
            found = process.extractOne(token, bucket, scorer=fuzz.ratio, score_cutoff=cutoff)
            if found is None:
                continue
            word, score = found[0], float(found[1])
            if best is None or score > best[1] or (score == best[1] and word < best[0]):
                best = (word, score)
                cutoff = score
        if len(self._typos) >= _TYPO_MEMO_SIZE:
            self._typos.clear()
        self._typos[token] = best
        return best


def _discard_sorted(words: list[str], word: str) -> None:
    at = bisect.bisect_left(words, word)
    if at < len(words) and words[at] == word:
        del words[at]


@dataclass(eq=False, slots=True)
class _Indexed:
    """One document as the index holds it. Compared by identity: it keys the postings."""

    doc: Document
    keys: tuple[str, ...]  # similarity keys of the distinct phrasings
    #: The terms of each of those phrasings, sorted (so precision sums are reproducible).
    key_terms: tuple[tuple[str, ...], ...]
    questions: tuple[str, ...]  # the phrasing each key came from
    question_keys: tuple[str, ...]  # the similarity key of every phrasing, aligned with doc.questions
    #: Insertion sequence: breaks ties deterministically, older documents first.
    seq: int
    #: Position in the index's slot list (and bit in its dense-term bitsets); set by the index.
    slot: int = -1


@dataclass
class ScopeIndex:
    """Inverted index over the documents of one scope.

    Every term has a posting dict. A term that is common in this index (at least DENSE_MIN
    documents: "who", "meeting") also gets one bitset per field weight, bit i standing for the
    document in `slots[i]`, so a question can rank documents by such terms with a few big-int
    operations instead of a Python loop over thousands of postings (see
    `RetrievalEngine._dense_classes`).
    Slots are handed out in insertion order, so a lower bit is an older document.
    """

    docs: dict[str, _Indexed] = field(default_factory=dict)
    #: term -> {document: field weight}; insertion-ordered, so iteration is reproducible.
    postings: dict[str, dict[_Indexed, float]] = field(default_factory=dict)
    vocab: Vocabulary = field(default_factory=Vocabulary)
    #: entity id -> documents quoting that entity's words.
    speakers: Counter[str] = field(default_factory=Counter)
    slots: list[_Indexed | None] = field(default_factory=list)
    #: common term -> {field weight: bitset of the documents with that weight for the term}.
    dense: dict[str, dict[float, int]] = field(default_factory=dict)
    _free: int = 0  # slots of removed documents

    def add(self, item: _Indexed, fields: dict[str, float], words: Iterable[str]) -> None:
        if item.doc.key in self.docs:
            self.remove(item.doc.key)
        self.docs[item.doc.key] = item
        item.slot = len(self.slots)
        self.slots.append(item)
        postings = self.postings
        bit = 1 << item.slot
        for term, weight in fields.items():
            posting = postings.get(term)
            if posting is None:
                postings[term] = {item: weight}
                continue
            posting[item] = weight
            bits = self.dense.get(term)
            if bits is not None:
                bits[weight] = bits.get(weight, 0) | bit
            elif len(posting) >= DENSE_MIN:
                self._densify(term, posting)
        self.vocab.add(words)
        self.speakers.update(item.doc.speakers)

    def remove(self, key: str) -> _Indexed | None:
        item = self.docs.pop(key, None)
        if item is None:
            return None
        bit = 1 << item.slot
        # Terms and words are derived again rather than kept per document: removal is rare,
        # memory for every document is not.
        terms, words = _document_fields(item.doc)
        for term in terms:
            posting = self.postings.get(term)
            if posting is None:
                continue
            weight = posting.pop(item, None)
            if not posting:
                del self.postings[term]
            bits = self.dense.get(term)
            if bits is None or weight is None:
                continue
            if len(posting) < DENSE_DROP:
                del self.dense[term]
            else:
                bits[weight] ^= bit
        self.slots[item.slot] = None
        self._free += 1
        self.vocab.remove(words)
        self.speakers.subtract(item.doc.speakers)
        for speaker in item.doc.speakers:
            if self.speakers[speaker] <= 0:
                del self.speakers[speaker]
        if self._free > max(COMPACT_MIN, len(self.docs)):
            self._compact()
        return item

    def _densify(self, term: str, posting: dict[_Indexed, float]) -> None:
        size = (len(self.slots) + 7) // 8
        arrays: dict[float, bytearray] = {}
        for item, weight in posting.items():
            array = arrays.get(weight)
            if array is None:
                array = arrays[weight] = bytearray(size)
            array[item.slot >> 3] |= 1 << (item.slot & 7)
        self.dense[term] = {weight: int.from_bytes(array, "little") for weight, array in arrays.items()}

    def _compact(self) -> None:
        """Renumber the slots (amortised: only after as many removals as there are documents)."""
        live = [item for item in self.slots if item is not None]
        for at, item in enumerate(live):
            item.slot = at
        self.slots = list(live)
        self._free = 0
        for term in list(self.dense):
            self._densify(term, self.postings[term])

    def slot_bits(self, items: Iterable[_Indexed]) -> int:
        """A bitset of the slots of those `items` that belong to this index."""
        array = bytearray((len(self.slots) + 7) // 8)
        slots = self.slots
        for item in items:
            at = item.slot
            if 0 <= at < len(slots) and slots[at] is item:
                array[at >> 3] |= 1 << (at & 7)
        return int.from_bytes(array, "little")

    def oldest(self, bits: int, limit: int) -> list[_Indexed]:
        """The documents of the `limit` lowest set bits of `bits` (the oldest, since slots grow)."""
        out: list[_Indexed] = []
        slots = self.slots
        while bits and len(out) < limit:
            low = bits & -bits
            item = slots[low.bit_length() - 1]
            assert item is not None  # bitsets only hold live documents
            out.append(item)
            bits ^= low
        return out


#: The index of a scope that has no documents (never written to).
_EMPTY = ScopeIndex()


class IdfTable:
    """Inverse document frequency over the indexes visible in one scope, computed lazily.

    A term's weight is memoised until an index it reads from changes, so an edit costs
    nothing up front and a question pays only for the terms it uses.
    """

    def __init__(self, indexes: list[ScopeIndex]) -> None:
        self._indexes = indexes
        self._n_docs = sum(len(i.docs) for i in indexes) or 1
        self._memo: dict[str, float] = {}
        #: Sum of the IDF of a phrasing's terms, the denominator of its precision.
        self.totals: dict[tuple[str, ...], float] = {}

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

    def total(self, terms: tuple[str, ...]) -> float:
        value = self.totals.get(terms)
        if value is None:
            value = self.totals[terms] = sum(self.get(t, 1.0) for t in terms)
        return value


@dataclass(frozen=True)
class QueryAnalysis:
    text: str
    key: str
    terms: dict[str, float]  # term -> weight
    entities: frozenset[str]  # in-source entities named
    unknown_entities: tuple[str, ...]  # entity ids the source does not mention
    corrections: dict[str, str]  # typo -> known word
    oov: tuple[str, ...]  # words neither known nor correctable
    #: Whose words are asked for ("What did Blinken say ..."), if anyone's...
    speaker: str | None = None
    #: ... and the speakers whose quotations count as theirs: a country speaks through its
    #: ministers ("What did Japan say?" is answered by Hayashi's words).
    voices: frozenset[str] = frozenset()

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


@dataclass(frozen=True, slots=True)
class _DenseTerm:
    """A common query term as the bitset search reads it."""

    weight: float
    order: int  # position in the question's terms
    bits: dict[float, int]  # field weight -> documents
    posting: dict[_Indexed, float]


def _kth_value(counted: list[tuple[float, int]], k: int) -> float:
    """The k-th largest value of (value, how many) pairs; minus infinity when there are fewer."""
    seen = 0
    for value, count in sorted(counted, key=lambda pair: pair[0], reverse=True):
        seen += count
        if seen >= k:
            return value
    return -math.inf


class _Fit:
    """How well a question can fit one phrasing: exact term precision, and a similarity bound.

    The bound lets rescoring skip rapidfuzz for phrasings and documents that cannot win.
    """

    __slots__ = ("_seen", "idf", "key", "key_len", "query_idf", "query_terms")

    def __init__(self, query: QueryAnalysis, idf: IdfTable) -> None:
        self.key = query.key
        self.key_len = len(query.key)
        self.query_terms = query.terms.keys()
        self.query_idf = {t: idf.get(t, 1.0) for t in query.terms}
        self.idf = idf
        # Tie-breaking and rescoring read the same documents: compute their phrasings once.
        self._seen: dict[_Indexed, list[tuple[float, int, float]]] = {}

    def phrasings(self, item: _Indexed) -> list[tuple[float, int, float]]:
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
        key_len = self.key_len
        out = self._seen[item] = []
        for at, (key, terms) in enumerate(zip(item.keys, item.key_terms, strict=True)):
            lengths = key_len + len(key)
            ratio = 1.0 - abs(key_len - len(key)) / lengths if lengths else 1.0
            if query_terms.isdisjoint(terms):
                out.append((_SIM_FLOOR + _SIM_SPAN * ratio + _EPS, at, 0.0))
                continue
            total = total_of(terms)
            precision = sum(query_idf[t] for t in terms if t in query_idf) / total if total else 0.0
            out.append((_SIM_FLOOR + _SIM_SPAN * ratio + _PRECISION_WEIGHT * precision + _EPS, at, precision))
        out.sort(reverse=True)
        return out


#: The fit bound of a phrasing is _SIM_FLOOR + _SIM_SPAN * (length ratio) + precision share.
_SIM_FLOOR: Final = PHRASE_SIM_WEIGHT * SET_RATIO_SHARE
_SIM_SPAN: Final = PHRASE_SIM_WEIGHT * _RATIO_SHARE


class RetrievalEngine:
    def __init__(self, lexicon: EntityLexicon, synonyms: Mapping[str, str] | None = None) -> None:
        self.lexicon = lexicon
        #: A word no document contains -> the word the knowledge base uses for it.
        self.synonyms: Mapping[str, str] = synonyms or {}
        self._scopes: dict[Scope, ScopeIndex] = {}
        self._idf: dict[Scope, IdfTable] = {}
        self._seq = 0

    # ---- building -----------------------------------------------------------------------
    def index_document(self, doc: Document) -> None:
        terms, words = _document_fields(doc)
        by_key: dict[str, str] = {}
        question_keys: list[str] = []
        for question in doc.questions:
            key = similarity_key(question)
            if key in by_key:
                key = next(k for k in by_key if k == key)  # share one string per key
            else:
                by_key[key] = question
            question_keys.append(key)
        # Sorted: precision sums then run in the same order in every process (not hash order).
        key_terms = tuple(tuple(sorted(self._phrasing_terms(q))) for q in by_key.values())
        keys = tuple(by_key)
        # Phrasings rarely share a key: then the tuples are the document's own, not copies.
        distinct = len(keys) == len(doc.questions)
        self._seq += 1
        item = _Indexed(
            doc=doc,
            keys=keys,
            key_terms=key_terms,
            questions=doc.questions if distinct else tuple(by_key.values()),
            question_keys=keys if distinct else tuple(question_keys),
            seq=self._seq,
        )
        if doc.kind == "decline":
            # Small talk is matched through its terms, but its words ("thanks") must never become
            # typo targets: "tanks" is not a misspelt "thanks".
            words = {}
        self._scopes.setdefault(doc.scope, ScopeIndex()).add(item, terms, words)
        self._changed(doc.scope)

    def _phrasing_terms(self, question: str) -> frozenset[str]:
        cased = cased_tokens(question)
        mentions = self.lexicon.recognize_tokens(cased, frozenset())
        covered = {k for m in mentions for k in range(m.start, m.end)}
        terms = {intern(entity_term(m.entity_id)) for m in mentions}
        terms.update(
            intern(stem(t.lower()))
            for i, t in enumerate(cased)
            if i not in covered and t.lower() not in STOP_WORDS
        )
        return frozenset(terms)

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
        return self._scopes.get(scope) or _EMPTY

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
            vocabulary.update(t for t in lower if t in index.vocab)
        mentions = self.lexicon.recognize_tokens(cased, vocabulary)
        covered = {k for m in mentions for k in range(m.start, m.end)}
        table = self._idf_table(scope)
        idf = table.get
        oov_weight = table.unknown_weight
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
            synonym = self.synonyms.get(tok) if tok not in vocabulary else None
            if synonym is not None:
                # A curated synonym says what the word means here, even if its stem is known.
                corrections[tok] = synonym
                tok, weight_scale = synonym, SYNONYM_SCALE
            elif tok not in vocabulary and not any(stem(tok) in i.postings for i in indexes):
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
            voices=self.voices(speaker) if speaker else frozenset(),
        )

    def _speaker(self, lower: list[str], mentions: list[Mention]) -> str | None:
        """Who is nearest a speech verb ("say", "quote", "remarks"), preferring one before it."""
        named = {k for m in mentions for k in range(m.start, m.end)}
        # A word inside a name is not a verb: "joint statement" names a document.
        verbs = [i for i, t in enumerate(lower) if i not in named and stem(t) in SPEECH_STEMS]
        voices = [m for m in mentions if m.in_source and self._can_speak(m.entity_id)]
        if not verbs or not voices:
            return None
        verb = verbs[0]
        before = [m for m in voices if m.end <= verb]
        if before:
            return str(before[-1].entity_id)
        # After the verb, a name is the speaker only as in "a quote from Austin", "remarks by
        # Blinken"; in "what did they say about NATO" it is the topic.
        after = [m for m in voices if m.start > verb and _introduced_by_source_word(lower, m.start)]
        return str(after[0].entity_id) if after else None

    def _can_speak(self, entity_id: str) -> bool:
        entity = self.lexicon.get(entity_id)
        return entity is not None and entity.kind in SPEAKING_KINDS

    def voices(self, entity_id: str) -> frozenset[str]:
        """The entity itself, and for a country its people (Japan -> Hayashi, Hamada)."""
        entity = self.lexicon.get(entity_id)
        if entity is None or entity.kind != "country":
            return frozenset({entity_id})
        people = {
            e.id for e in self.lexicon.entities.values() if e.kind == "person" and e.country == entity.name
        }
        return frozenset({entity_id} | people)

    def has_speaker_in(self, entity_id: str, scope: Scope) -> bool:
        """Whether a document visible in `scope` (the base, and the server's own) quotes the
        entity or, for a country, one of its people."""
        voices = self.voices(entity_id)
        return any(index.speakers[v] > 0 for index in self._visible(scope) for v in voices)

    @staticmethod
    def _correct(token: str, indexes: list[ScopeIndex]) -> tuple[str, float] | None:
        if len(token) < TYPO_MIN_CHARS or not token.isalpha():
            return None
        best: tuple[str, float] | None = None
        for index in indexes:
            found = index.vocab.closest(token)
            if found is not None and (best is None or found[1] / 100.0 > best[1]):
                best = (found[0], found[1] / 100.0)
        # A real word is meant as written ("spending" is not a misspelt "sending"), unless the
        # match is the same word in the other spelling ("characterize" / "characterise").
        if best is not None and not same_word(token, best[0]) and is_english_word(token):
            return None
        return best

    # ---- searching -------------------------------------------------------------------------
    def search(self, question: str, scope: Scope = None, limit: int = 5) -> tuple[QueryAnalysis, list[Match]]:
        query = self.analyze(question, scope)
        total = query.total_weight
        if total <= 0:
            return query, []
        fit = _Fit(query, self._idf_table(scope))
        ranked = self._candidates(query, self._visible(scope), fit)
        if not ranked:
            return query, []
        matches = self._rescore(query, ranked, total, fit, limit)
        matches.sort(key=lambda m: m.score, reverse=True)
        return query, matches[:limit]

    def _candidates(
        self, query: QueryAnalysis, indexes: list[ScopeIndex], fit: _Fit
    ) -> list[tuple[_Indexed, float]]:
        """The RESCORE_LIMIT documents with the highest coverage weight, best first.

        Postings are summed per document, except the largest index's common terms (see
        `ScopeIndex.dense`): those only update the documents the other terms found, and the
        documents only they reach are ranked as classes of equal coverage, with bitsets
        (`_dense_classes`). Ties at the cut-off are broken by `_break_ties`.
        """
        terms = list(query.terms.items())
        big = max(indexes, key=lambda index: len(index.docs))
        dense: list[_DenseTerm] = []
        if big.dense:
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
        acc: dict[_Indexed, float] = {}
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
        chosen.extend(self._break_ties(query, tied, RESCORE_LIMIT - len(chosen), fit))
        if dense:
            # Coverage summed in the question's term order, exactly as a full scan would.
            ranked = [(item, self._coverage(query, item, indexes)) for item in chosen]
        else:
            ranked = [(item, acc[item]) for item in chosen]  # already summed in that order
        ranked.sort(key=lambda pair: (-pair[1], pair[0].seq))
        return ranked

    @staticmethod
    def _dense_classes(
        dense: list[_DenseTerm], index: ScopeIndex, acc: dict[_Indexed, float]
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
        bound = [0.0] * (len(dense) + 1)  # bound[i]: the most terms i.. can add
        for i in range(len(dense) - 1, -1, -1):
            bound[i] = bound[i + 1] + dense[i].weight * _MAX_FIELD
        tick = 0
        heap: list[tuple[float, int, float, int, int]] = [(-bound[0], tick, 0.0, 0, start)]
        found: list[tuple[float, int]] = []
        counted = [(v, 1) for v in top]
        theta = _kth_value(counted, RESCORE_LIMIT)
        while heap:
            ceiling, _, value, depth, bits = heap[0]
            if -ceiling < theta - _EPS:
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
    def _coverage(query: QueryAnalysis, item: _Indexed, indexes: list[ScopeIndex]) -> float:
        coverage = 0.0
        for term, weight in query.terms.items():
            for index in indexes:
                posting = index.postings.get(term)
                if posting is not None and (f := posting.get(item)) is not None:
                    coverage += weight * f
                    break
        return coverage

    def _break_ties(self, query: QueryAnalysis, tied: list[_Indexed], need: int, fit: _Fit) -> list[_Indexed]:
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
        unknown_factor = math.sqrt(1.0 - query.unknown_share)
        ranked = sorted(
            tied,
            key=lambda item: (
                -self._fit_bound(item, fit) * self._factor(query, item, unknown_factor),
                item.seq,
            ),
        )
        return ranked[:need]

    @staticmethod
    def _fit_bound(item: _Indexed, fit: _Fit) -> float:
        return fit.phrasings(item)[0][0]

    @staticmethod
    def _factor(query: QueryAnalysis, item: _Indexed, unknown_factor: float) -> float:
        factor = unknown_factor
        if query.entities and not (query.entities & item.doc.entities):
            factor *= ENTITY_MISS_FACTOR
        if query.speaker and item.doc.speakers and not (query.voices & item.doc.speakers):
            factor *= OTHER_SPEAKER_FACTOR
        return factor

    def _rescore(
        self, query: QueryAnalysis, ranked: list[tuple[_Indexed, float]], total: float, fit: _Fit, limit: int
    ) -> list[Match]:
        """Coverage of the question by each document, blended with how well its best phrasing fits.

        A phrasing fits when it reads like the question (rapidfuzz similarity) and says nothing
        the question does not ask about (precision: its IDF-weighted terms found in the question).

        Only the `limit` best matches are wanted, so documents are scored most promising first
        (by an upper bound of their score): once a bound is below the `limit`-th best score so
        far, that document and all after it are skipped; within a document, a phrasing is skipped
        when its bound cannot beat the best fit so far or lift the document to that score. The
        matches come back in candidate order, so ties sort as in a full pass.
        """
        unknown_factor = math.sqrt(1.0 - query.unknown_share)
        plans: list[_Plan] = []
        for rank, (item, raw_coverage) in enumerate(ranked):
            coverage = raw_coverage / total
            doc = item.doc
            entity_miss = bool(query.entities) and not (query.entities & doc.entities)
            other_speaker = bool(query.speaker and doc.speakers and not (query.voices & doc.speakers))
            phrasings = fit.phrasings(item)
            ceiling = _final_score(coverage, phrasings[0][0], entity_miss, unknown_factor, other_speaker)
            plans.append(_Plan(ceiling, rank, item, coverage, entity_miss, other_speaker, phrasings))
        plans.sort(key=lambda plan: (-plan.ceiling, plan.rank))
        best_scores: list[float] = []  # min-heap of the `limit` best scores so far
        found: list[tuple[int, Match]] = []
        for plan in plans:
            floor = -math.inf  # the fit this document needs to reach the `limit` best
            if len(best_scores) >= limit:
                if plan.ceiling < best_scores[0]:
                    break  # sorted by ceiling: no later document can place either
                floor = _fit_needed(best_scores[0], plan, unknown_factor)
            item = plan.item
            best_fit, best_at, best_sim = -1.0, 0, 0.0
            for bound, at, precision in plan.phrasings:
                if bound < best_fit or bound < floor:
                    break  # sorted: no later phrasing can fit better
                sim = _phrase_similarity(query.key, item.keys[at]) / 100.0
                value = PHRASE_SIM_WEIGHT * sim + _PRECISION_WEIGHT * precision
                # The first phrasing wins a tie, as in a plain pass in phrasing order.
                if value > best_fit or (value == best_fit and at < best_at):
                    best_fit, best_at, best_sim = value, at, sim
            if best_fit < floor:
                continue  # every phrasing that could lift it was below the floor: it cannot place
            score = min(
                1.0,
                _final_score(plan.coverage, best_fit, plan.entity_miss, unknown_factor, plan.other_speaker),
            )
            found.append(
                (plan.rank, Match(item.doc, score, plan.coverage, best_sim, item.questions[best_at]))
            )
            if len(best_scores) < limit:
                heapq.heappush(best_scores, score)
            elif score > best_scores[0]:
                heapq.heapreplace(best_scores, score)
        found.sort(key=lambda pair: pair[0])
        return [match for _, match in found]

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
            extra.extend(index.vocab.with_prefix(prefix, 8 - len(extra)))
        # The best few documents hold far more phrasings than a choice list shows.
        _, matches = self.search(" ".join([*typed, *extra]), scope, limit=min(limit, AUTOCOMPLETE_DOCS))
        if not matches:
            return []
        key = similarity_key(text)
        scored: dict[str, float] = {}
        # The `limit` best first scores of distinct phrasings: a lower bound of the final
        # `limit`-th best, since a phrasing's score only rises when another match repeats it.
        floor: list[float] = []
        for match in matches:
            if match.doc.kind == "decline":
                continue  # small talk is recognised, never offered as a question to ask
            # Matches come best first and a phrasing scores at most half its match's score plus
            # one half: once that is below the floor, no later match can place a phrasing.
            if len(floor) >= limit and 0.5 * match.score + 0.5 < floor[0]:
                break
            item = self._scopes[match.doc.scope].docs[match.doc.key]
            # A phrasing below the floor cannot place: rapidfuzz may stop early on those (they are
            # left out of the results; the margin keeps ties at the floor in).
            cutoff = 0.0
            if len(floor) >= limit:
                cutoff = max(0.0, (floor[0] - 0.5 * match.score) / 0.5 * 100.0 - 1e-6)
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
                sim = similarity / 100.0
                score = 0.5 * match.score + 0.5 * sim
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


@dataclass(slots=True)
class _Plan:
    """A candidate document prepared for re-scoring (see `RetrievalEngine._rescore`)."""

    ceiling: float  # an upper bound of its score
    rank: int  # its place among the candidates
    item: _Indexed
    coverage: float
    entity_miss: bool
    other_speaker: bool
    phrasings: list[tuple[float, int, float]]  # see `_Fit.phrasings`


def _fit_needed(threshold: float, plan: _Plan, unknown_factor: float) -> float:
    """The phrasing fit below which `plan`'s document scores under `threshold` (a bit lower, for
    rounding: a bound may skip work only when it is surely too low)."""
    factor = unknown_factor
    if plan.entity_miss:
        factor *= ENTITY_MISS_FACTOR
    if plan.other_speaker:
        factor *= OTHER_SPEAKER_FACTOR
    if factor <= 0.0:
        return -math.inf
    return (threshold / factor - COVERAGE_WEIGHT * plan.coverage) / (1.0 - COVERAGE_WEIGHT) - _EPS


def _final_score(
    coverage: float, fit: float, entity_miss: bool, unknown_factor: float, other_speaker: bool
) -> float:
    score = COVERAGE_WEIGHT * coverage + (1.0 - COVERAGE_WEIGHT) * fit
    if entity_miss:
        score *= ENTITY_MISS_FACTOR
    # A question whose unexplained words carry much of its weight is about something else.
    score *= unknown_factor
    if other_speaker:
        # "What did Putin say?" must not be answered with Blinken's words about Putin.
        score *= OTHER_SPEAKER_FACTOR
    return score


def _phrase_similarity(a: str, b: str, **_: object) -> float:
    # token_set_ratio forgives extra words, ratio punishes them: the blend prefers the phrasing
    # that says what the question says, no more and no less. token_set_ratio alone would rate a
    # one-word phrasing ("nuclear") a perfect match for any question containing that word.
    return SET_RATIO_SHARE * fuzz.token_set_ratio(a, b) + _RATIO_SHARE * fuzz.ratio(a, b)
