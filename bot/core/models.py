"""Knowledge-base models: what the curated files and the store hold.

These are the boundary types between the files in `knowledge/`, the SQLite store and the
retrieval engine. Validation that needs only one object lives here; validation that needs the
whole base (verbatim excerpts, unique ids, known sources) lives in `bot.core.loader`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bot.core.understanding.focus import Facet

_ID_RE = r"^[a-z0-9][a-z0-9._-]{0,63}$"

EntryId = Annotated[str, StringConstraints(pattern=_ID_RE)]
NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

#: Scope of an entry: None is the curated global base; an int is one Discord server's id.
Scope = int | None


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Frozen):
    """A document the bot may quote, stored verbatim."""

    id: EntryId
    title: NonEmpty
    #: None where the article does not name its outlet; nothing is invented for it.
    outlet: str | None = None
    published: dt.date
    url: str | None = None
    photo_credit: str | None = None
    text: str = Field(repr=False)
    #: How many leading paragraphs are headline/dateline rather than body text.
    header_paragraphs: int = Field(default=0, ge=0)

    def date_label(self) -> str:
        return f"{self.published.strftime('%B')} {self.published.day}, {self.published.year}"

    def label(self) -> str:
        """How a citation names this source: its title, outlet where known, and date."""
        parts = [f"\u201c{self.title}\u201d"]
        if self.outlet:
            parts.append(self.outlet)
        parts.append(self.date_label())
        return ", ".join(parts)


class Citation(_Frozen):
    """A verbatim excerpt of a source that supports an answer."""

    source: EntryId
    excerpt: NonEmpty
    speaker: str | None = None
    #: Where the excerpt stands, e.g. "¶4"; filled in by the loader from the source text.
    location: str | None = None


class Entry(_Frozen):
    """A curated question-and-answer entry."""

    id: EntryId
    questions: list[NonEmpty] = Field(min_length=1)
    answer: NonEmpty
    citations: list[Citation] = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)
    #: Ids of the people/things this entry is about; the matcher links question entities to them.
    entities: list[str] = Field(default_factory=list)
    #: The kinds of fact the answer states (`answers: [place, date]`): a question asking for
    #: another kind ("how much", "how old") is declined instead of answered with this entry.
    #: None (undeclared, e.g. a moderator's entry) means they are read from the answer's words.
    answers: list[Facet] | None = None
    #: Facts the entry states only roughly ("next week", "50 or so"): a question asking for the
    #: exact value ("what exact date") is declined, with this entry as the suggestion.
    approximate: list[Facet] = Field(default_factory=list)
    #: The entry speaks in general terms only (no names, figures or items): "which specific
    #: sanctions" is declined.
    general: bool = False
    #: The entry says what the article does NOT tell ("The article does not quote Hamada"): the
    #: bot declines with this text rather than presenting it as an answer from the source.
    not_in_article: bool = False

    @field_validator("questions")
    @classmethod
    def _distinct_questions(cls, value: list[str]) -> list[str]:
        seen: set[str] = set()
        out: list[str] = []
        for q in value:
            key = q.casefold()
            if key not in seen:
                seen.add(key)
                out.append(q)
        return out


class Quote(_Frozen):
    """A direct quotation from a source, attributed to its speaker."""

    id: EntryId
    speaker: EntryId  # an entity id
    text: NonEmpty
    source: EntryId
    context: NonEmpty
    #: Short subject words a user might ask about ("Putin", "sanctions").
    topics: list[str] = Field(default_factory=list)
    location: str | None = None


class Entity(_Frozen):
    """A person, country, organisation, place or event the matcher can recognise."""

    id: EntryId
    name: NonEmpty
    kind: Literal["person", "country", "organization", "place", "event", "thing"]
    aliases: list[str] = Field(default_factory=list)
    role: str | None = None
    country: str | None = None
    #: Known in the world but absent from the source: asking about it must abstain.
    in_source: bool = True

    def surface_forms(self) -> list[str]:
        return [self.name, *self.aliases]


class Decline(_Frozen):
    """Questions the bot should politely decline (small talk, questions about itself).

    Matched like entries, so "What's your name?" is recognised for what it is instead of being
    answered with the nearest fact; the reply never claims anything from the source.
    """

    id: EntryId
    questions: list[NonEmpty] = Field(min_length=1)
    reply: NonEmpty


class EntryDraft(BaseModel):
    """An entry as a moderator submits it (no id yet, limits checked)."""

    model_config = ConfigDict(extra="forbid")

    questions: list[str]
    answer: str
    excerpts: list[str]
    speaker: str | None = None

    @field_validator("questions", "excerpts")
    @classmethod
    def _drop_blank(cls, value: list[str]) -> list[str]:
        return [v.strip() for v in value if v.strip()]


def slugify(text: str, *, max_len: int = 48) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (slug[:max_len].rstrip("-")) or "entry"


__all__ = [
    "Citation",
    "Decline",
    "Entity",
    "Entry",
    "EntryDraft",
    "EntryId",
    "Quote",
    "Scope",
    "Source",
    "slugify",
]
