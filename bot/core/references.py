"""What a question refers to beyond its own words, read with the entity lexicon.

"What did he say?" after a sentence naming Austin is about Austin; "Also, how many ministers
will attend?" after a question about the Contact Group is about the Contact Group; "Was it in
DC or Tokyo?" asks which of two places. The understanding step (`bot.core.understanding`) finds
the parts of a message without knowing any names; these read those parts against the names
the knowledge base knows.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Final

from bot.core.answerability import LOCATION_KINDS, MEETING_ENTITY
from bot.core.entities import EntityLexicon
from bot.core.text import cased_tokens
from bot.core.understanding import Part
from bot.core.understanding.focus import CALENDAR_WORDS, Choice, Facet
from bot.core.understanding.question import personal_pronouns

#: A person's pronoun, to be replaced by the person's name.
_PERSON_PRONOUN: Final = re.compile(r"\b(?:he|she|him|his|her|hers)\b", re.IGNORECASE)
#: A day, a month or a year, as one alternative of a choice ("on Wednesday or Thursday").
_CALENDAR_OR_YEAR: Final = re.compile(rf"(?:{CALENDAR_WORDS})|(?:19|20)\d\d")


def names_a_person(text: str, lexicon: EntityLexicon) -> bool:
    return any(lexicon.kind(m.entity_id) == "person" for m in lexicon.recognize(text))


def with_person_named(part: Part, lexicon: EntityLexicon) -> Part:
    """ "What did he say?" after a sentence naming Austin reads "What did Austin say?": a
    person's pronoun stands for the last person named before it, when the question names no
    person itself. The question then stands on its own (its context is still tried)."""
    if not personal_pronouns(part.question) or names_a_person(part.question, lexicon):
        return part
    cased = cased_tokens(f"{part.before} {part.context}")
    people = [
        m for m in lexicon.recognize_tokens(cased, frozenset()) if lexicon.kind(m.entity_id) == "person"
    ]
    if not people:
        return part
    last = max(people, key=lambda m: m.start)
    name = " ".join(cased[last.start : last.end])
    resolved = _PERSON_PRONOUN.sub(
        lambda m: f"{name}'s" if m.group(0).lower() in {"his", "hers"} else name, part.question
    )
    return replace(part, question=resolved, leans=False)


def occasion_before(part: Part, lexicon: EntityLexicon) -> str | None:
    """The occasion (an event other than the 2+2 itself) that the question before this one
    named, as typed, when this one names nothing at all."""
    if not part.before or part.context or lexicon.recognize(part.question):
        return None
    cased = cased_tokens(part.before)
    named = [
        m
        for m in lexicon.recognize_tokens(cased, frozenset())
        if lexicon.kind(m.entity_id) == "event" and m.entity_id != MEETING_ENTITY
    ]
    if not named:
        return None
    last = max(named, key=lambda m: m.start)
    return " ".join(cased[last.start : last.end])


def facet_of_choice(choice: Choice, lexicon: EntityLexicon) -> Facet | None:
    """What a choice is between: places ("in DC or Tokyo"), days or years, or people; None
    for anything else ("Russia or China" as things condemned)."""
    if choice.days:
        return "date"
    found: set[Facet] = set()
    for alternative in (choice.first, choice.second):
        if _CALENDAR_OR_YEAR.fullmatch(alternative.lower()):
            found.add("date")
            continue
        mentions = lexicon.recognize(alternative)
        kind = lexicon.kind(mentions[0].entity_id) if mentions else None
        if kind in LOCATION_KINDS and choice.located:
            found.add("place")
        elif kind == "person":
            found.add("person")
    return found.pop() if len(found) == 1 else None


#: What a minister's job is about, read from their role: the same kind of job in the other
#: country is their counterpart's.
_PORTFOLIOS: Final = (
    ("defense", re.compile(r"\bdefen[cs]e\b", re.I)),
    ("foreign", re.compile(r"\b(?:foreign|state)\b", re.I)),
)
_COUNTERPART: Final = re.compile(r"\bcounterparts?\b", re.IGNORECASE)


def _portfolio(role: str | None) -> str | None:
    return next((name for name, pattern in _PORTFOLIOS if role and pattern.search(role)), None)


def counterpart_of(person: str, lexicon: EntityLexicon) -> str | None:
    """The person with the same portfolio in the other country (Austin -> Hamada), if the
    article names exactly one."""
    entity = lexicon.get(person)
    portfolio = _portfolio(entity.role) if entity is not None else None
    if entity is None or portfolio is None:
        return None
    found = [
        e.id
        for e in lexicon.entities.values()
        if e.kind == "person"
        and e.in_source
        and e.country
        and e.country != entity.country
        and _portfolio(e.role) == portfolio
    ]
    return found[0] if len(found) == 1 else None


def with_counterpart_named(part: Part, lexicon: EntityLexicon) -> Part:
    """ "Who is Austin's Japanese counterpart?" reads "Who is Hamada Yasukazu?", "the counterpart
    of Hayashi" reads "Antony J. Blinken": the person with the same portfolio on the other side."""
    text = part.question
    found = _COUNTERPART.search(text)
    if found is None:
        return part
    # "Austin's (Japanese) counterpart": the person just before ...
    head = text[: found.start()]
    cased = cased_tokens(head)
    people = [
        m for m in lexicon.recognize_tokens(cased, frozenset()) if lexicon.kind(m.entity_id) == "person"
    ]
    if people and people[-1].end >= len(cased) - 1:
        other = counterpart_of(people[-1].entity_id, lexicon)
        at = head.rfind(cased[people[-1].start])
        if other is not None and at >= 0:
            name = lexicon.entities[other].name
            return replace(part, question=f"{text[:at]}{name}{text[found.end() :]}")
        return part
    # ... or "the counterpart of Hayashi": the person just after.
    after = _OF_PERSON.match(text, found.end())
    if after is None:
        return part
    tail = cased_tokens(after.group(1))
    named = [m for m in lexicon.recognize_tokens(tail, frozenset()) if lexicon.kind(m.entity_id) == "person"]
    other = counterpart_of(named[0].entity_id, lexicon) if named and named[0].start == 0 else None
    if other is None:
        return part
    lead = re.sub(r"\b(?:the|a)\s*$", "", text[: found.start()], flags=re.IGNORECASE)
    rest = text[after.end() :]
    return replace(part, question=f"{lead}{lexicon.entities[other].name}{rest}")


#: "counterpart of Hayashi", "counterpart to Austin": whose counterpart, after the word.
_OF_PERSON: Final = re.compile(r"\s+(?:of|to)\s+([A-Za-z][\w.\- ]*?[A-Za-z.])(?=\s*(?:[?!.,;]|$))")
