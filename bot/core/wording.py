"""Counts and lists in messages, written once: "1 entry", "3 entries", "A, B and C".

Every adapter (Discord, CLI) and the core's own messages use these, so a count never reads
"1 problems" or "problem(s)".
"""

from __future__ import annotations

from collections.abc import Iterable

_VOWELS = frozenset("aeiou")


def plural_of(word: str) -> str:
    """The regular English plural of a noun (or of the last word of a phrase)."""
    if word.endswith("y") and len(word) > 1 and word[-2].lower() not in _VOWELS:
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


def noun(count: int, word: str, plural_form: str | None = None) -> str:
    """The form of `word` that agrees with `count`: "entry" for 1, "entries" otherwise; give
    `plural_form` for an irregular noun."""
    if count == 1:
        return word
    return plural_form if plural_form is not None else plural_of(word)


def plural(count: int, word: str, plural_form: str | None = None) -> str:
    """`count` and the noun that agrees with it: ``plural(1, "entry")`` is "1 entry",
    ``plural(3, "entry")`` is "3 entries"."""
    return f"{count} {noun(count, word, plural_form)}"


def human_join(items: Iterable[str], conjunction: str = "and") -> str:
    """Items as a sentence lists them: "A", "A and B", "A, B and C" ("" for none)."""
    listed = list(items)
    if len(listed) <= 1:
        return "".join(listed)
    return f"{', '.join(listed[:-1])} {conjunction} {listed[-1]}"


__all__ = ["human_join", "noun", "plural", "plural_of"]
