"""Locating excerpts in a source: the proof that a citation is verbatim, and where it stands."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from bot.core.models import Source
from bot.core.text import normalize_verbatim, split_paragraphs


@dataclass(frozen=True)
class Passage:
    location: str
    text: str
    score: float

    def suggestion(self, of: str = "") -> str:
        """The sentence that offers this passage to paste instead of a non-verbatim excerpt;
        `of` names the source where several could hold it (" of article")."""
        return f"The closest passage ({self.location}{of}) is: \u201c{self.text}\u201d"


@dataclass
class SourceText:
    """A source's text in verbatim-normal form with paragraph offsets, for fast lookups."""

    source: Source
    paragraphs: list[str] = field(init=False)
    labels: list[str] = field(init=False)
    _joined: str = field(init=False, repr=False)
    _starts: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        raw = split_paragraphs(self.source.text)
        self.paragraphs = [normalize_verbatim(p) for p in raw]
        header = self.source.header_paragraphs
        self.labels = [
            ("headline" if i < header else f"¶{i - header + 1}") for i in range(len(self.paragraphs))
        ]
        self._starts = []
        pos = 0
        for p in self.paragraphs:
            self._starts.append(pos)
            pos += len(p) + 1
        self._joined = " ".join(self.paragraphs)

    def locate(self, excerpt: str) -> str | None:
        """The paragraph label(s) where `excerpt` stands verbatim, or None if it does not."""
        needle = normalize_verbatim(excerpt)
        if not needle:
            return None
        at = self._joined.find(needle)
        if at < 0:
            return None
        first = bisect.bisect_right(self._starts, at) - 1
        last = bisect.bisect_right(self._starts, at + len(needle) - 1) - 1
        if first == last:
            return self.labels[first]
        return f"{self.labels[first]}–{self.labels[last]}"

    def whole_words(self, excerpt: str) -> bool:
        """Whether `excerpt` stands in the source as whole words somewhere (it neither starts nor
        ends inside a word of the source): "ttended by" is verbatim, but proves nothing."""
        needle = normalize_verbatim(excerpt)
        if not needle:
            return False
        at = self._joined.find(needle)
        while at >= 0:
            end = at + len(needle)
            starts_clean = at == 0 or not (needle[0].isalnum() and self._joined[at - 1].isalnum())
            ends_clean = end == len(self._joined) or not (
                needle[-1].isalnum() and self._joined[end].isalnum()
            )
            if starts_clean and ends_clean:
                return True
            at = self._joined.find(needle, at + 1)
        return False

    def closest_passage(self, excerpt: str) -> Passage:
        """The stretch of the source most like `excerpt`, to show a moderator what to paste."""
        needle = normalize_verbatim(excerpt)
        best = Passage(location=self.labels[0], text=self.paragraphs[0], score=0.0)
        for label, para in zip(self.labels, self.paragraphs, strict=True):
            if len(needle) <= len(para):
                align = fuzz.partial_ratio_alignment(needle, para)
                if align is not None and align.score > best.score:
                    text = _widen_to_sentences(para, align.dest_start, align.dest_end)
                    best = Passage(location=label, text=text, score=align.score)
            else:
                score = fuzz.ratio(needle, para)
                if score > best.score:
                    best = Passage(location=label, text=para, score=score)
        return best


_SENTENCE_END = re.compile(r"[.?!;:\u2026][\"'\u201d\u2019)\]]*\s+")


def _widen_to_sentences(text: str, start: int, end: int) -> str:
    """Extend a character span to the whole sentences it touches, so the suggestion reads as a
    complete thought a moderator can paste or trim; it stays a verbatim substring."""
    bounds = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
    first = max(b for b in bounds if b <= start)
    last = min((b for b in bounds if b >= end), default=len(text))
    return text[first:last].strip()
