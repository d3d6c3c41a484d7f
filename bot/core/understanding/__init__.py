"""Question understanding: what a message asks, before any retrieval.

Runs in this order, each step in its own module:
- `chat`: strip chat noise and expand shorthand ("wher did they meet lol" -> "where did they meet");
- `question`: find the question(s) inside a long message and split a multi-part question;
- `focus`: what kind of fact is asked for (a place, an amount, a reason ...) and whether the
  question is a yes/no question, so the answer service can tell an entry that answers it from a
  related one that does not.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.understanding.chat import clean_chat
from bot.core.understanding.question import MAX_PARTS, Part, find_questions, split_parts


@dataclass(frozen=True)
class Understood:
    """A message read for what it asks."""

    #: The message with chat noise removed (what decline phrasings are compared with).
    cleaned: str
    #: One question per thing asked, preamble and request frames removed (at least one).
    parts: tuple[Part, ...]


def understand(message: str) -> Understood:
    cleaned = clean_chat(message)
    parts: list[Part] = []
    for asked in find_questions(cleaned):
        parts.extend(split_parts(asked))
    return Understood(cleaned=cleaned, parts=tuple(dict.fromkeys(parts))[:MAX_PARTS])


__all__ = ["MAX_PARTS", "Part", "Understood", "understand"]
