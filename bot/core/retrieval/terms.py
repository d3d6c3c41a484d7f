"""How text becomes terms: the one vocabulary of the index and of question analysis.

A term is the stem of a content word ("attended" -> "attend") or an entity id with a leading
"@" ("@blinken"). A similarity key is what rapidfuzz compares: the normalised words of a text
without stop words.
"""

from __future__ import annotations

from collections.abc import Iterable
from sys import intern

from bot.core.entities import EntityLexicon
from bot.core.text import STOP_WORDS, cased_tokens, stem


def entity_term(entity_id: str) -> str:
    return f"@{entity_id}"


def content_words(tokens: Iterable[str]) -> list[str]:
    """Words that are terms: not stop words. Question words are kept: "when" is not "where"."""
    return [t for t in tokens if t not in STOP_WORDS]


def similarity_key(text: str) -> str:
    """What rapidfuzz compares: normalised words without stop words, question words kept."""
    return " ".join(t.lower() for t in cased_tokens(text) if t.lower() not in STOP_WORDS)


def phrasing_terms(question: str, lexicon: EntityLexicon) -> frozenset[str]:
    """The terms of one phrasing: the entities it names, and the stems of its other words.

    Interned: thousands of documents then share one string per term instead of a copy each.
    """
    cased = cased_tokens(question)
    mentions = lexicon.recognize_tokens(cased, frozenset())
    covered = {k for m in mentions for k in range(m.start, m.end)}
    terms = {intern(entity_term(m.entity_id)) for m in mentions}
    terms.update(
        intern(stem(t.lower()))
        for i, t in enumerate(cased)
        if i not in covered and t.lower() not in STOP_WORDS
    )
    return frozenset(terms)
