"""The peers the engine is measured against, each over the same documents a scope can see.

- `ExtractOnePeer`: rapidfuzz `process.extractOne` with `token_set_ratio` over every phrasing, a
  brute-force scan (the floor).
- `Bm25Peer`: the `bm25s` library's BM25 over one bag of words per document (all its
  phrasings), the standard lexical retriever.

Fairness: `best(question)` does the whole work of answering from raw text, as
`AnswerService.answer` does: the question is normalised with the bot's own `normalize_query`
(and, for BM25, stemmed and stripped of stop words like the engine's index terms) inside the
call, so inside the timer. What each peer builds once (the normalised phrasings, the BM25
index) is built before timing, as the engine's index is.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import bm25s
from rapidfuzz import fuzz, process

from bot.core.documents import Document
from bot.core.text import STOP_WORDS, normalize_query, stem


class Peer(Protocol):
    #: Row key part and the label printed in the table.
    key: str
    label: str

    def best(self, question: str) -> str | None:
        """The key of the document the peer ranks first for `question` (None: nothing)."""
        ...

    def describe(self) -> str:
        """What the peer searches, for the table's note (e.g. "12,669 phrasings")."""
        ...


class ExtractOnePeer:
    key = "floor"
    label = "floor: rapidfuzz extractOne(token_set_ratio)"

    def __init__(self, docs: Sequence[Document]) -> None:
        self._phrasings = [normalize_query(q) for doc in docs for q in doc.questions]
        self._keys = [doc.key for doc in docs for _ in doc.questions]

    def best(self, question: str) -> str | None:
        found = process.extractOne(
            normalize_query(question), self._phrasings, scorer=fuzz.token_set_ratio, processor=None
        )
        return None if found is None else self._keys[found[2]]

    def describe(self) -> str:
        return f"{len(self._phrasings):,} phrasings"


def bm25_terms(text: str) -> list[str]:
    """BM25's terms of a text: the bot's normalisation, stop words dropped, stemmed."""
    return [stem(token) for token in normalize_query(text).split() if token not in STOP_WORDS]


class Bm25Peer:
    key = "bm25"
    label = "peer: bm25s BM25, top 1"

    def __init__(self, docs: Sequence[Document]) -> None:
        self._keys = [doc.key for doc in docs]
        self._retriever = bm25s.BM25()
        corpus = [[term for q in doc.questions for term in bm25_terms(q)] for doc in docs]
        self._retriever.index(corpus, show_progress=False)
        self._phrasings = sum(len(doc.questions) for doc in docs)

    def best(self, question: str) -> str | None:
        terms = bm25_terms(question)
        if not terms:
            return None
        # n_threads=0 (the default) scores in the calling thread, so its CPU time is counted.
        ids, scores = self._retriever.retrieve([terms], k=1, show_progress=False, n_threads=0)
        return self._keys[int(ids[0][0])] if float(scores[0][0]) > 0.0 else None

    def describe(self) -> str:
        return f"{len(self._keys):,} documents ({self._phrasings:,} phrasings)"


def build_peers(docs: Sequence[Document]) -> list[Peer]:
    """Both peers over `docs`; a suite adds a peer by appending it here."""
    return [ExtractOnePeer(docs), Bm25Peer(docs)]
