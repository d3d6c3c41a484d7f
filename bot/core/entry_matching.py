"""Matching a moderator's search against one server's entries (`/qa list`, `/qa` autocomplete).

Substring matches (on the id, a phrasing or the answer) come first, in the entries' order; then
fuzzy matches on the id and the phrasings, best first, ties by id.

A server may hold hundreds of maximum-size entries, and autocomplete searches them at every
keystroke. `MatchTable` prepares them once (casefolded and normalised texts, built in a worker
when the server's entries change), and each search is then one substring test per entry and
one call into rapidfuzz's `cdist`, which releases the GIL while it scores: the event loop,
running every other server's answers, is not kept waiting by one server's search.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Final

import numpy as np
from rapidfuzz import fuzz, process

from bot.core.limits import NORMALIZED_TEXT_CACHE
from bot.core.text import normalize_query

#: Fuzzy matches below this score (0..100) are not listed.
LIST_FUZZY_CUTOFF: Final = 70.0
#: Joins an entry's casefolded texts into one string to search; a search containing it is
#: checked text by text instead, so a match never spans two texts.
_SEPARATOR: Final = "\x00"

#: (id, phrasings, answer) of one entry.
Item = tuple[str, Sequence[str], str]


@functools.lru_cache(maxsize=NORMALIZED_TEXT_CACHE)
def normalized(text: str) -> str:
    """`normalize_query(text)`, remembered: the same phrasings are matched again and again."""
    return normalize_query(text)


class MatchTable:
    """Entries prepared for searching. Immutable once built; safe to share between threads."""

    def __init__(self, items: Sequence[Item]) -> None:
        self.ids = [entry_id for entry_id, _, _ in items]
        self._folded = [
            tuple(t.casefold() for t in (entry_id, *qs, answer)) for entry_id, qs, answer in items
        ]
        self._haystacks = [_SEPARATOR.join(texts) for texts in self._folded]
        # The fuzzy texts (id and phrasings) of every entry, one entry after another.
        self._fields: list[str] = []
        starts: list[int] = []
        for entry_id, questions, _ in items:
            starts.append(len(self._fields))
            self._fields.append(normalized(entry_id))
            self._fields.extend(normalized(q) for q in questions)
        self._starts = starts

    def __len__(self) -> int:
        return len(self.ids)

    def order(self, query: str) -> list[int]:
        """Indices of the entries matching `query`: substring matches, then fuzzy ones."""
        needle = query.strip().casefold()
        if _SEPARATOR in needle:
            hits = [any(needle in text for text in texts) for texts in self._folded]
        else:
            hits = [needle in haystack for haystack in self._haystacks]
        exact = [n for n, hit in enumerate(hits) if hit]
        key = normalized(needle)
        if not key or len(exact) == len(self.ids):
            return exact
        rest = [n for n, hit in enumerate(hits) if not hit]
        best = self._best_scores(key, rest)
        scored = [(float(best[k]), rest[k]) for k in np.flatnonzero(best >= LIST_FUZZY_CUTOFF)]
        scored.sort(key=lambda pair: (-pair[0], self.ids[pair[1]]))
        return exact + [n for _, n in scored]

    def _best_scores(self, key: str, entries: list[int]) -> np.ndarray:
        """The best fuzzy score of each of `entries` (indices) over its id and phrasings."""
        fields: list[str] = []
        starts: list[int] = []
        bounds = [*self._starts, len(self._fields)]
        if len(entries) == len(self.ids):
            fields, starts = self._fields, self._starts
        else:
            for n in entries:
                starts.append(len(fields))
                fields.extend(self._fields[bounds[n] : bounds[n + 1]])
        scores = process.cdist(
            [key],
            fields,
            scorer=fuzz.token_set_ratio,
            score_cutoff=LIST_FUZZY_CUTOFF,
            dtype=np.float64,
            workers=1,
        )[0]
        best: np.ndarray = np.maximum.reduceat(scores, np.asarray(starts, dtype=np.intp))
        return best
