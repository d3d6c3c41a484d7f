"""What the engine holds per scope: one record per document, an inverted index, and IDF.

Every term has a posting dict. A term that is common in one index (at least DENSE_MIN
documents: "who", "meeting") also gets one bitset per field weight, so a question can rank
documents by such terms with a few big-int operations instead of a Python loop over thousands
of postings (see `bot.core.retrieval.search`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from sys import intern

from bot.core.documents import Document
from bot.core.entities import EntityLexicon
from bot.core.retrieval.terms import content_words, entity_term, phrasing_terms, similarity_key
from bot.core.retrieval.vocabulary import Vocabulary
from bot.core.retrieval.weights import DEFAULT_WEIGHTS, Weights
from bot.core.text import cased_tokens, stem

#: A term in this many documents of one index also gets bitsets (see `ScopeIndex.dense`)...
DENSE_MIN = 256
#: ... and loses them when it falls below this many (hysteresis: no flapping around the line).
DENSE_DROP = 128
#: Free slots tolerated before an index renumbers its documents (see `ScopeIndex.slots`).
COMPACT_MIN = 1024


def document_fields(doc: Document, weights: Weights) -> tuple[dict[str, float], dict[str, None]]:
    """A document's terms with their field weight, and its distinct words.

    Interned: thousands of documents then share one string per term instead of a copy each.
    """
    words: dict[str, None] = {}
    terms: dict[str, float] = {}
    phrasing, body = weights.phrasing_field, weights.body_field
    for text, weight in [*((q, phrasing) for q in doc.questions), (doc.body, body)]:
        toks = [t.lower() for t in cased_tokens(text)]
        for tok in content_words(toks):
            words[intern(tok)] = None
            term = intern(stem(tok))
            terms[term] = max(terms.get(term, 0.0), weight)
    for entity_id in doc.mentioned:
        terms[intern(entity_term(entity_id))] = body
    for entity_id in doc.entities:
        terms[intern(entity_term(entity_id))] = phrasing
    return terms, words


#: Key-length tuples seen so far, so documents with the same lengths share one (bounded).
_LENGTHS: dict[tuple[int, ...], tuple[int, ...]] = {}
_LENGTHS_MAX = 4096


@dataclass(eq=False, slots=True)
class Indexed:
    """One document as the index holds it. Compared by identity: it keys the postings."""

    doc: Document
    keys: tuple[str, ...]  # similarity keys of the distinct phrasings
    #: The terms of those phrasings, in sorted order (so precision sums are reproducible), each
    #: with the bitset of the phrasings that have it (bit i: `keys[i]`): a question finds the
    #: phrasings that share its terms with one lookup per term, not one test per phrasing.
    term_phrasings: dict[str, int]
    #: The distinct lengths of `keys`, ascending (shared between documents that have the same).
    lengths: tuple[int, ...]
    questions: tuple[str, ...]  # the phrasing each key came from
    question_keys: tuple[str, ...]  # the similarity key of every phrasing, aligned with doc.questions
    #: Insertion sequence: breaks ties deterministically, older documents first.
    seq: int
    #: Position in the index's slot list (and bit in its dense-term bitsets); set by the index.
    slot: int = -1

    @classmethod
    def build(cls, doc: Document, lexicon: EntityLexicon, seq: int) -> Indexed:
        """The record of `doc`: the similarity key and the terms of each distinct phrasing."""
        by_key: dict[str, str] = {}
        question_keys: list[str] = []
        for question in doc.questions:
            key = similarity_key(question)
            if key in by_key:
                key = next(k for k in by_key if k == key)  # share one string per key
            else:
                by_key[key] = question
            question_keys.append(key)
        masks: dict[str, int] = {}
        for at, question in enumerate(by_key.values()):
            for term in phrasing_terms(question, lexicon):
                masks[term] = masks.get(term, 0) | 1 << at
        keys = tuple(by_key)
        # Phrasings rarely share a key: then the tuples are the document's own, not copies.
        distinct = len(keys) == len(doc.questions)
        lengths = tuple(sorted({len(key) for key in keys}))
        shared = _LENGTHS.get(lengths)
        if shared is None:
            if len(_LENGTHS) >= _LENGTHS_MAX:
                _LENGTHS.clear()
            shared = _LENGTHS[lengths] = lengths
        return cls(
            doc=doc,
            keys=keys,
            lengths=shared,
            # Sorted: precision sums then run in the same order in every process (not hash order).
            term_phrasings={term: masks[term] for term in sorted(masks)},
            questions=doc.questions if distinct else tuple(by_key.values()),
            question_keys=keys if distinct else tuple(question_keys),
            seq=seq,
        )


class ScopeIndex:
    """Inverted index over the documents of one scope.

    Every term has a posting dict. A term that is common in this index (at least DENSE_MIN
    documents) also gets one bitset per field weight, bit i standing for the document in
    `slots[i]`. Slots are handed out in insertion order, so a lower bit is an older document.
    Read it freely; change it only through the engine (`index_document`, `remove_document`).
    """

    def __init__(self, weights: Weights = DEFAULT_WEIGHTS) -> None:
        self._weights = weights
        self.docs: dict[str, Indexed] = {}
        #: term -> {document: field weight}; insertion-ordered, so iteration is reproducible.
        self.postings: dict[str, dict[Indexed, float]] = {}
        self.vocab = Vocabulary(weights)
        #: entity id -> documents quoting that entity's words.
        self.speakers: Counter[str] = Counter()
        self.slots: list[Indexed | None] = []
        #: common term -> {field weight: bitset of the documents with that weight for the term}.
        self.dense: dict[str, dict[float, int]] = {}
        self._free = 0  # slots of removed documents

    def add(self, item: Indexed, fields: dict[str, float], words: Iterable[str]) -> None:
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

    def remove(self, key: str) -> Indexed | None:
        item = self.docs.pop(key, None)
        if item is None:
            return None
        bit = 1 << item.slot
        # Terms and words are derived again rather than kept per document: removal is rare,
        # memory for every document is not.
        terms, words = document_fields(item.doc, self._weights)
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

    def _densify(self, term: str, posting: dict[Indexed, float]) -> None:
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

    def slot_bits(self, items: Iterable[Indexed]) -> int:
        """A bitset of the slots of those `items` that belong to this index."""
        array = bytearray((len(self.slots) + 7) // 8)
        slots = self.slots
        for item in items:
            at = item.slot
            if 0 <= at < len(slots) and slots[at] is item:
                array[at >> 3] |= 1 << (at & 7)
        return int.from_bytes(array, "little")

    def oldest(self, bits: int, limit: int) -> list[Indexed]:
        """The documents of the `limit` lowest set bits of `bits` (the oldest, since slots grow)."""
        out: list[Indexed] = []
        slots = self.slots
        while bits and len(out) < limit:
            low = bits & -bits
            item = slots[low.bit_length() - 1]
            assert item is not None  # bitsets only hold live documents
            out.append(item)
            bits ^= low
        return out


class IdfTable:
    """Inverse document frequency over the indexes visible in one scope, computed lazily.

    A term's weight is memoised until an index it reads from changes, so an edit costs
    nothing up front and a question pays only for the terms it uses. The same goes for the
    IDF totals of a document's phrasings (`total`): a table is dropped, never updated, when
    an index it reads from changes (see `RetrievalEngine._changed`).
    """

    def __init__(self, indexes: list[ScopeIndex]) -> None:
        self._indexes = indexes
        self._n_docs = sum(len(i.docs) for i in indexes) or 1
        self._memo: dict[str, float] = {}
        #: What `total` has computed, per document and phrasing (None: not yet).
        self.phrasing_totals: dict[Indexed, list[float | None]] = {}

    @property
    def unknown_weight(self) -> float:
        """The weight of a word no document contains: as informative as the rarest word."""
        return math.log(1.0 + (self._n_docs + 1) / 0.5)

    @property
    def cached_terms(self) -> int:
        """How many terms' weights are memoised (only terms some document has)."""
        return len(self._memo)

    def get(self, term: str, default: float = 0.0) -> float:
        weight = self._memo.get(term)
        if weight is None:
            df = 0
            for index in self._indexes:
                posting = index.postings.get(term)
                if posting:
                    df += len(posting)
            weight = math.log(1.0 + (self._n_docs + 1) / (df + 0.5))
            # A word no document has weighs the unknown weight (the same expression with
            # df = 0); memoising every made-up word a question brings would grow without bound.
            if df:
                self._memo[term] = weight
        return weight

    def total(self, item: Indexed, at: int) -> float:
        """The sum of the IDF of the terms of `item.keys[at]`, the denominator of its precision,
        summed (by `sum`) in sorted term order, so reproducible to the last bit. Memoised per
        phrasing, and computed only for phrasings a question shares a term with."""
        totals = self.phrasing_totals.get(item)
        if totals is None:
            totals = self.phrasing_totals[item] = [None] * len(item.keys)
        value = totals[at]
        if value is None:
            get = self.get
            value = totals[at] = sum(get(t, 1.0) for t, mask in item.term_phrasings.items() if mask >> at & 1)
        return value

    def totals(self, item: Indexed) -> tuple[float, ...]:
        """`total` of every phrasing of `item`, in `item.keys` order."""
        return tuple(self.total(item, at) for at in range(len(item.keys)))
