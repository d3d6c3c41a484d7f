"""The known words of one index: membership, prefix lookup (autocomplete) and typo correction."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator

from rapidfuzz import fuzz, process

from bot.core.limits import TYPO_MEMO
from bot.core.retrieval.weights import DEFAULT_WEIGHTS, Weights

#: Margin on the length bound of fuzz.ratio (floating point never skips a reachable bucket).
RATIO_SLACK = 1e-6

#: Bounded memo of typo corrections per vocabulary (cleared when its words change).


class Vocabulary:
    """The known words of one index: membership, prefix lookup and typo correction.

    Kept sorted, and bucketed by length, as words come and go, so an edit costs a few list
    insertions instead of re-sorting every word, and typo correction reads only the words
    whose length is within `Weights.typo_length_band` of the typed word.
    """

    def __init__(self, weights: Weights = DEFAULT_WEIGHTS) -> None:
        self._cutoff = weights.typo_cutoff
        self._band = weights.typo_length_band
        self._counts: dict[str, int] = {}  # word -> documents using it
        self._sorted: list[str] = []
        self._by_len: dict[int, list[str]] = {}
        self._typos: dict[str, tuple[str, float] | None] = {}

    def __contains__(self, word: object) -> bool:
        return word in self._counts

    def uses(self, word: str) -> int:
        """How many documents use `word`."""
        return self._counts.get(word, 0)

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
        """The known word most like `token` (fuzz.ratio at least the typo cut-off); on ties, the
        word more documents use ("meating" is "meeting", not "meaning"), then alphabetically.

        Only words within the length band of the token's length are read.
        """
        if token in self._typos:
            return self._typos[token]
        best: tuple[str, float] | None = None
        cutoff = self._cutoff
        size = len(token)
        for length in range(size - self._band, size + self._band + 1):
            bucket = self._by_len.get(length)
            if not bucket:
                continue
            if 200.0 * min(size, length) / (size + length) + RATIO_SLACK < cutoff:
                continue  # fuzz.ratio of two texts is at most 200 * the shorter / both lengths
            for word, score, _ in process.extract(
                token, bucket, scorer=fuzz.ratio, score_cutoff=cutoff, limit=None
            ):
                if best is None or (-score, -self.uses(word), word) < (
                    -best[1],
                    -self.uses(best[0]),
                    best[0],
                ):
                    best = (word, float(score))
                    cutoff = score
        if len(self._typos) >= TYPO_MEMO:
            self._typos.clear()
        self._typos[token] = best
        return best


def _discard_sorted(words: list[str], word: str) -> None:
    at = bisect.bisect_left(words, word)
    if at < len(words) and words[at] == word:
        del words[at]
