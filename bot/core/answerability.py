"""Does this entry answer what was asked? The check between retrieval and the reply.

Retrieval finds the entry most *about* the question; that is not yet an answer. "How much money
did Japan pledge?" is about Japan's support for Ukraine, and the best entry on that says nothing
of an amount. Each check here compares what the question asks (its `Focus`) with what the
entry states (`Document.answers`, `approximate`, `general`) and, when they differ, says why in
plain words, so the bot can decline honestly and still offer the entry as a suggestion.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, NamedTuple

from bot.core.documents import Document
from bot.core.entities import EntityLexicon
from bot.core.limits import ANSWERABILITY_DOCS_MEMO
from bot.core.models import Entity
from bot.core.text import STOP_WORDS, cased_tokens, normalize_query, stem
from bot.core.understanding.focus import CALENDAR_WORDS, MISSING, Facet, Focus

#: Entity kinds that name a location; a question naming one location is contradicted by an
#: entry that places the same thing elsewhere.
LOCATION_KINDS: Final = frozenset({"place", "country"})
#: Kinds of thing a qualifier moves to another occasion ("the previous 2+2", "the next summit").
OCCASION_KINDS: Final = frozenset({"event"})
_CALENDAR: Final = re.compile(rf"\b({CALENDAR_WORDS})\b")
_FINER_PLACE: Final = re.compile(r"\b(?:building|base|room|hotel|street|address|airport|hall|venue)\b")
#: "held in Tokyo?", "at a base?": a location given as a premise.
_LOCATING_WORDS: Final = frozenset({"in", "at", "near"})
#: "in June?", "on a Friday?": a day given as a premise.
_DAY_PREMISE: Final = re.compile(
    r"\b(?:in|on|during|for)\s+(?:a\s+|the\s+)?" + _CALENDAR.pattern + r"(?:\s+\d{1,2}\b)?"
)
#: A yes/no premise is corrected from an entry only when the entry covers this share of the
#: question's other words, and at least this many of them: "Did they voice concern over Russia's
#: military cooperation with North Korea?" is about the entry that names China instead; "Did they
#: discuss Taiwan?" is not contradicted by the agenda, which simply does not mention it.
CORRECTION_COVERAGE: Final = 0.66
CORRECTION_MIN_WORDS: Final = 3
#: Speech verbs, as stems: "who said ..." is answered by whoever an entry quotes.
_SPEECH: Final = frozenset(
    {"say", "said", "tell", "told", "quot", "remark", "comment", "speak", "claim", "call", "talk", "mention",
     "describ", "announc", "note", "warn", "express", "outlin", "stress", "reiter", "add"}
)  # fmt: skip
LATER_REASON: Final = (
    "The article was written right after the meeting and doesn't report what happened later."
)


@dataclass(frozen=True)
class Verdict:
    answers: bool
    #: Why not, in plain words, when it does not ("The article doesn't say where.").
    reason: str = ""


YES: Final = Verdict(True)


@dataclass(frozen=True)
class Asked:
    """What the checks need to know of one question."""

    text: str
    focus: Focus
    #: Ids of the entities the question names, in the source or not.
    named: frozenset[str]
    #: Named entities the source never mentions.
    unknown: frozenset[str] = frozenset()
    #: What a yes/no question takes for granted, if it states a place or a day.
    premise: Premise | None = None
    #: Words of the question that neither the knowledge base nor the article uses ("troops").
    unsupported: frozenset[str] = frozenset()
    #: How the question's words read in the knowledge base's terms: typos corrected and curated
    #: synonyms ("worried" -> "concern").
    read_as: Mapping[str, str] = field(default_factory=dict)
    #: What the message said just before the question ("Besides the nuclear rhetoric, ...").
    background: str = ""
    #: The country whose people the question asks about, read once (see `asked_side`).
    side: str | None = None


class _Read(NamedTuple):
    """A document's words as the checks compare them: its normalised text and its stems."""

    text: str
    stems: frozenset[str]


#: Documents read so far, by identity (an edited entry is a new document); bounded, and checked
#: against the document itself since an id can be reused once a document is gone.
_READ: dict[int, tuple[Document, _Read]] = {}


def _read(doc: Document) -> _Read:
    cached = _READ.get(id(doc))
    if cached is not None and cached[0] is doc:
        return cached[1]
    text = normalize_query(" ".join([*doc.questions, doc.body]))
    read = _Read(text, frozenset(stem(w) for w in text.split()))
    if len(_READ) >= ANSWERABILITY_DOCS_MEMO:
        _READ.clear()
    _READ[id(doc)] = (doc, read)
    return read


def _content_words(text: str) -> list[str]:
    return [w for w in normalize_query(text).split() if w not in STOP_WORDS]


#: Kinds of fact a quotation may state in its own words: where things stand, what something
#: is called, how long it lasts.
_SAID_FACETS: Final = frozenset({"place", "name", "duration", "reason"})


def states_facet(asked: Asked, doc: Document) -> bool:
    """Whether `doc` states the kind of fact asked for (any, for an open question)."""
    facet = asked.focus.facet
    if facet is None or facet in doc.answers:
        return True
    speech = any(stem(w) in _SPEECH for w in _content_words(asked.text))
    # Quoting someone tells who said it: "Who said 'as long as it takes'?"
    if facet == "person":
        return bool(doc.speakers) and speech
    # "Where did Hayashi say Russia's aggression has left the world?" asks for his words, which
    # his quotation gives ("at historical crossroads").
    if speech and "quote" in doc.answers and doc.speakers & asked.named and facet in _SAID_FACETS:
        return True
    # What someone pledged or promised is what they said: "Did Austin pledge to back Ukraine?"
    return facet == "outcome" and bool(doc.speakers & asked.named)


def judge(asked: Asked, doc: Document, lexicon: EntityLexicon) -> Verdict:
    """Whether `doc` states the kind of fact asked for, about the occasion asked about."""
    focus = asked.focus
    facet = focus.facet
    if facet is not None and not states_facet(asked, doc):
        return Verdict(False, f"The article {MISSING[facet]}.")
    if facet in SUBJECT_FACETS and not _about_the_subject(asked, doc, lexicon):
        # "How long did the *meeting* last?" is not answered by how long support will last.
        return Verdict(False, f"The article {MISSING[facet]}.")
    occasion = _other_occasion(asked, doc, lexicon)
    if facet is not None and occasion is not None:
        # "How long did the joint news conference last?" is not answered by how long support
        # will last: an entry about another occasion does not say it of this one.
        return Verdict(False, f"The article doesn't say that about the {occasion}.")
    if focus.specific and (doc.general or (facet is not None and facet in doc.approximate)):
        return Verdict(False, "The article doesn't give that level of detail.")
    if "later" in focus.qualifiers:
        return Verdict(False, LATER_REASON)
    if focus.others and doc.kind != "passage" and not _names_more_than_excluded(asked, doc, lexicon):
        # "Who else attended?": an entry names the ones the article names, and no others.
        return Verdict(False, "The article doesn't name anyone or anything else.")
    text, stems = _read(doc)
    if focus.qualifiers:
        missing = sorted(
            q
            for q in focus.qualifiers
            if not {stem(asked.read_as.get(q, q)), stem(_QUALIFIER_KIN.get(q, q))} & stems
        )
        if missing:
            return Verdict(False, f"The article doesn't say that about the {missing[0]} one.")
        if not _same_occasion(asked.text, text, lexicon):
            return Verdict(False, "The article doesn't say that about that meeting.")
    if facet == "place":
        # "Which building in Washington?": a finer place than the entry names.
        finer = _FINER_PLACE.search(asked.text.lower())
        if finer is not None and finer.group(0) not in text:
            return Verdict(False, "The article doesn't give that level of detail.")
    if not focus.yes_no and facet == "place":
        # "Which city in Germany?" is not answered by "in Germany": the entry must add a place.
        # Only a place named as a location counts ("the US-Japan meeting" names no location).
        places = {e for e in doc.entities | doc.mentioned if lexicon.kind(e) in LOCATION_KINDS}
        if places and places <= located_places(asked.text, lexicon) & asked.named:
            return Verdict(False, "The article doesn't say where more precisely than that.")
    if not focus.yes_no and facet == "date":
        # "What day in May?" is not answered by "in May".
        stated = set(_CALENDAR.findall(doc.answer.lower()))
        if stated and stated <= set(_CALENDAR.findall(asked.text.lower())):
            return Verdict(False, "The article doesn't give a more precise date than that.")
    return YES


_PEOPLE_FACETS: Final = frozenset({"person", "role"})
#: Nouns for people that a nationality picks out ("Japanese ministers", "Japan's side").
_PEOPLE_NOUNS: Final = frozenset(
    {"minister", "ministers", "official", "officials", "side", "delegation", "delegates", "delegate",
     "representative", "representatives", "participant", "participants", "team", "people",
     "leader", "leaders", "counterpart", "counterparts", "secretary", "ministry"}
)  # fmt: skip
#: Words of a role a nationality may stand before ("Japan's defense minister").
_ROLE_WORDS: Final = frozenset({"foreign", "defense", "defence", "prime", "top"})
#: Words that put a country's people before it ("from Japan", "represented the United States").
_FOR_A_SIDE: Final = frozenset({"from", "represented", "representing", "represent", "for"})


_COUNT_WORDS: Final = {"two": 2, "both": 2, "three": 3, "four": 4}
_HOW_MANY_PEOPLE: Final = re.compile(
    r"\b(two|both|three|four)\b(?: \w+)? (?:ministers|officials|people|men|leaders)\b", re.I
)


def asked_side(question: str, lexicon: EntityLexicon) -> str | None:
    """The country whose people a question asks about ("Which *Japanese* ministers ...", "who
    came *from Japan*"), when it names exactly one that way."""
    cased = cased_tokens(question)
    lower = [t.lower() for t in cased]
    sides: set[str] = set()
    for m in lexicon.recognize_tokens(cased, frozenset()):
        if lexicon.kind(m.entity_id) != "country":
            continue
        after = lower[m.end] if m.end < len(lower) else ""
        before = lower[m.start - 1] if m.start > 0 else ""
        if (
            after in _PEOPLE_NOUNS
            or (after in {"s", "'s"} and m.end + 1 < len(lower) and lower[m.end + 1] in _PEOPLE_NOUNS)
            or before in _FOR_A_SIDE
        ):
            sides.add(m.entity_id)
    return next(iter(sides)) if len(sides) == 1 else None


def of_the_side(asked: Asked, doc: Document, lexicon: EntityLexicon) -> bool:
    """Whether `doc` speaks of the people of the country the question asks about: only of them,
    or of both sides with at least two of theirs ("Which Japanese ministers took part?" is
    answered by the Japanese delegation or all four attendees, not by the two diplomats)."""
    country = lexicon.get(asked.side) if asked.side is not None else None
    if asked.focus.facet not in _PEOPLE_FACETS or country is None:
        return True
    known = _people_named(doc, lexicon)
    theirs = sum(p.country == country.name for p in known)
    # "Which *two* Japanese ministers ...?": an entry naming one of them does not answer.
    wanted = _HOW_MANY_PEOPLE.search(asked.text)
    if wanted is not None and known and theirs < _COUNT_WORDS[wanted.group(1).lower()]:
        return False
    return not known or theirs == len(known) or theirs >= 2


#: "besides the war itself, ...": what the asker already has.
_EXCLUDED: Final = re.compile(
    r"\b(?:besides|apart from|aside from|other than|except(?: for)?|in addition to)\s+([^,?!.;]+)",
    re.IGNORECASE,
)


_OTHER_OF_A_KIND: Final = re.compile(r"\bother (?!things?\b|ones?\b)\w+", re.IGNORECASE)


def _names_more_than_excluded(asked: Asked, doc: Document, lexicon: EntityLexicon) -> bool:
    """ "What did they condemn besides the war itself?": the entry that lists the war (so is the
    list the asker means) and more answers; for people, someone the question does not name."""
    excluded = _EXCLUDED.search(f"{asked.background} {asked.text}")
    if excluded is None:
        return False
    words = [w for w in _content_words(excluded.group(1)) if w not in _ASKING_WORDS]
    stems = _read(doc).stems
    if not words or sum(stem(w) in stems for w in words) < SUBJECT_COVERAGE * len(words):
        return False
    if asked.focus.facet not in _PEOPLE_FACETS:
        # "What *else* did they condemn besides the war?" asks for the rest of a list the entry
        # gives; "the other priority issues besides Ukraine" for more of a kind it may not name.
        return _OTHER_OF_A_KIND.search(asked.text) is None
    if not any(lexicon.kind(m.entity_id) == "person" for m in lexicon.recognize(excluded.group(1))):
        return False  # "besides the four ministers": everyone the entry names is excluded
    country = lexicon.get(asked.side) if asked.side is not None else None
    others = _people_named(doc, lexicon, besides=asked.named)
    return any(country is None or p.country == country.name for p in others)


def _people_named(
    doc: Document, lexicon: EntityLexicon, besides: frozenset[str] = frozenset()
) -> list[Entity]:
    """The people of the article that `doc` is about or mentions, but those in `besides`."""
    people = (lexicon.get(e) for e in doc.entities | doc.mentioned if e not in besides)
    return [p for p in people if p is not None and p.kind == "person" and p.in_source]


#: The event the article reports: every entry is about it, named or not.
MEETING_ENTITY: Final = "two-plus-two"


def _other_occasion(asked: Asked, doc: Document, lexicon: EntityLexicon) -> str | None:
    """The name of an occasion (an event other than the meeting itself) the question asks about,
    when `doc` speaks of none of those it names."""
    occasions = sorted(
        e for e in asked.named - asked.unknown if e != MEETING_ENTITY and lexicon.kind(e) == "event"
    )
    if not occasions or any(e in doc.entities | doc.mentioned for e in occasions):
        return None
    entity = lexicon.get(occasions[0])
    return entity.name if entity is not None else occasions[0]


def _same_occasion(question: str, doc_text: str, lexicon: EntityLexicon) -> bool:
    """Whether a qualified occasion ("the next 2+2") is the one the entry speaks of: the entry
    must name the same qualifier right before the same event ("the next 2+2", not "what's next
    after the 2+2")."""
    cased = cased_tokens(question)
    lower = [t.lower() for t in cased]
    for mention in lexicon.recognize_tokens(cased, frozenset()):
        if lexicon.kind(mention.entity_id) not in OCCASION_KINDS:
            continue
        before = [w for w in lower[max(0, mention.start - 4) : mention.start] if w not in STOP_WORDS]
        qualifier = next((w for w in reversed(before) if w in _QUALIFIER_WORDS), None)
        if qualifier is None:
            continue
        entity = lexicon.entities[mention.entity_id]
        forms = [normalize_query(f) for f in entity.surface_forms()]
        names = "|".join(re.escape(f) for f in forms if f)
        # "the upcoming meeting" is the one an entry calls "next".
        said = f"(?:{qualifier}|{_QUALIFIER_KIN.get(qualifier, qualifier)})"
        pattern = rf"\b{said}(?: (?:{_OCCASION_FILLERS}))* (?:{names})\b"
        # "the next Contact Group meeting" is the one "meeting next week": the qualifier may
        # also follow the name closely.
        after = rf"\b(?:{names})(?: \w+)? {said} (?:week|month|year)\b"
        if re.search(pattern, doc_text) is None and re.search(after, doc_text) is None:
            return False
    return True


#: Words that may stand between a qualifier and the occasion it qualifies ("the next U.S.-Japan 2+2").
_OCCASION_FILLERS: Final = (
    "the|a|us|japan|japanese|american|2023|security|consultative|committee|ukraine|defense|g7"
)
_QUALIFIER_WORDS: Final = frozenset({"previous", "prior", "last", "earlier", "next", "upcoming", "following"})
#: Qualifiers that mean the same: "the upcoming meeting" is the one an entry calls "next".
_QUALIFIER_KIN: Final = {
    "upcoming": "next", "following": "next", "coming": "next", "future": "next",
    "prior": "previous", "earlier": "previous", "former": "previous", "last": "previous",
}  # fmt: skip


@dataclass(frozen=True)
class Premise:
    """What a yes/no question takes for granted ("Was it held in Tokyo?": a place, Tokyo)."""

    facet: Facet
    #: The question without the premise ("Was it held"): what to look up before comparing.
    rest: str
    #: The premise as typed ("Tokyo", "June") ...
    value: str
    #: ... and the entity it names, when the lexicon knows it.
    entity_id: str | None = None


#: "in 2022?": a year given as a premise.
_YEAR_PREMISE: Final = re.compile(r"\b(?:in|during)\s+(?:19|20)\d\d\b")
_NUMBER_WORDS: Final = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "hundred": 100,
}  # fmt: skip
#: "five ministers", "about 100 defense ministers": a count given as a premise (not a year, not
#: a day of a month, not the "2" of "2+2").
_COUNT_PREMISE: Final = re.compile(
    r"(?<![\w+])(?:(?:about|around|roughly|some|over|nearly|almost|like)\s+)?"
    r"(?P<n>\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")(?![\w+])(?!\s*(?:\+|st\b|nd\b|rd\b|th\b))"
    r"(?=\s+[a-z])",
    re.IGNORECASE,
)
_REFERRING_BEFORE: Final = re.compile(
    rf"\b(?:the|these|those|both|all|its|their|our|{CALENDAR_WORDS})\s+$", re.IGNORECASE
)


def _numbers(text: str) -> set[int]:
    """The counts a text states, as numbers ("four" and "4" are one)."""
    found = set()
    for word in _NUMBER.findall(text.lower()):
        found.add(int(word) if word.isdigit() else _NUMBER_WORDS[word])
    return found


#: "in Osaka?": a capitalised word after a locating word, which no entity names, is a place.
_PLACE_WORD = re.compile(r"\b(?:in|at|near)\s+((?:[A-Z][a-z]+)(?:\s+[A-Z][a-z]+)?)\b")


#: Words before a place the question already names as given ("in Germany", "before Japan").
_GIVEN_PLACE_WORDS: Final = _LOCATING_WORDS | frozenset({"before", "after", "than", "besides", "except"})


def located_places(question: str, lexicon: EntityLexicon) -> frozenset[str]:
    """The places a question names as given ("which city in Germany", "which country before
    Japan"), not as modifiers ("the US-Japan meeting")."""
    cased = cased_tokens(question)
    return frozenset(
        m.entity_id
        for m in lexicon.recognize_tokens(cased, frozenset())
        if m.start > 0
        and cased[m.start - 1].lower() in _GIVEN_PLACE_WORDS
        and lexicon.kind(m.entity_id) in LOCATION_KINDS
    )


def premise_of(question: str, lexicon: EntityLexicon) -> Premise | None:
    """The premise of a yes/no question that names a place ("Was it held in Tokyo?"), a day
    ("Is the summit in June?", "in 2022?") or a count ("Were there five ministers?"), so only
    entries stating that kind of fact can confirm or correct it, and the lookup is not pulled
    toward the premise itself."""
    day = _DAY_PREMISE.search(question.lower()) or _YEAR_PREMISE.search(question.lower())
    if day is not None:
        value = day.group(0).split(maxsplit=1)[1].removeprefix("a ").removeprefix("the ")
        return Premise("date", question[: day.start()] + question[day.end() :], value)
    for count in _COUNT_PREMISE.finditer(question):
        # "the two countries" refers to a known number of things; "five ministers" claims one.
        if _REFERRING_BEFORE.search(question[: count.start()]):
            continue
        return Premise("number", question[: count.start()] + question[count.end() :], count.group("n"))
    cased = cased_tokens(question)
    mentions = lexicon.recognize_tokens(cased, frozenset())
    for mention in mentions:
        located = mention.start > 0 and cased[mention.start - 1].lower() in _LOCATING_WORDS
        if located and lexicon.kind(mention.entity_id) in LOCATION_KINDS:
            rest = " ".join(cased[: mention.start - 1] + cased[mention.end :])
            value = " ".join(cased[mention.start : mention.end])
            return Premise("place", rest, value, mention.entity_id)
    named = {t.lower() for m in mentions for t in cased[m.start : m.end]}
    place = _PLACE_WORD.search(question)
    if place is not None and place.start() > 0 and not set(place.group(1).lower().split()) & named:
        return Premise("place", question[: place.start()] + question[place.end() :], place.group(1))
    return None


def contradicts(asked: Asked, doc: Document, lexicon: EntityLexicon) -> bool:
    """Whether a yes/no question's premise is contradicted by the entry: it names a location or a
    day that the entry replaces with another of the same kind ("held in Tokyo?" against an entry
    that says Washington; "on a Friday?" against one that says Wednesday)."""
    about = doc.entities | doc.mentioned
    stated = normalize_query(" ".join([doc.answer, *(c.excerpt for c in doc.citations)]))
    premise = asked.premise
    if premise is not None:
        entity = lexicon.get(premise.entity_id) if premise.entity_id else None
        forms = entity.surface_forms() if entity is not None else [premise.value]
        if (entity is not None and entity.id in about) or any(
            f" {normalize_query(form)} " in f" {stated} " for form in forms if normalize_query(form)
        ):
            return False  # the entry states it: the premise holds
        if premise.facet == "date":
            return bool(_CALENDAR.search(doc.answer.lower()))  # another day or month
        if premise.facet == "number":
            given = _numbers(stated)  # another count: "four", not "five"
            return bool(given) and _numbers(premise.value).isdisjoint(given)
        return any(lexicon.kind(other) in LOCATION_KINDS for other in about)
    # "Was the Japanese foreign minister Kishida?": the role names one person, the question
    # another the article never mentions.
    people = {e for e in asked.named if lexicon.kind(e) == "person"}
    if people & asked.unknown and people - asked.unknown and (people - asked.unknown) <= about:
        return True
    # No stated premise: a location, or a word the article never uses, in place of the entry's
    # ("cooperation with North Korea?" against the entry that names China; "aiding Ukraine's
    # agricultural sector?" against the energy sector), when the entry says all the rest.
    if not _names_its_subjects(asked, doc, lexicon) or not _covers_the_rest(asked, _read(doc).stems, lexicon):
        return False
    if asked.unsupported:
        return True
    for entity_id in asked.named:
        group = _substitution_group(lexicon.kind(entity_id))
        if not group or entity_id in about:
            continue
        entity = lexicon.entities[entity_id]
        if any(normalize_query(form) in stated for form in entity.surface_forms() if len(form) > 3):
            continue  # the entry states it too ("in Washington, D.C., in the United States")
        if any(lexicon.kind(other) in group for other in about):
            return True  # the entry names another of the same kind: Hayashi, not Kishida
    return _other_number(asked.text, stated)


def _substitution_group(kind: str | None) -> frozenset[str]:
    """The kinds an entity can be mistaken for in a premise: a place for a place, a person for
    a person, an organisation for an organisation."""
    if kind in LOCATION_KINDS:
        return LOCATION_KINDS
    return frozenset({kind}) if kind in {"person", "organization"} else frozenset()


_NUMBER = re.compile(
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|sixty|seventy"
    r"|eighty|ninety|hundred)\b"
)


def _other_number(question: str, stated: str) -> bool:
    """ "about 100 defence ministers?" against an entry that says "50 or so"."""
    asked = _numbers(question)
    given = _numbers(stated)
    return bool(asked and given and not asked & given)


#: Facets whose value belongs to a subject the entry must speak of ("how long did the meeting last").
SUBJECT_FACETS: Final = frozenset({"duration", "number", "age", "time"})
#: Share of the question's subject words (not its entities, not the words that ask) an entry
#: must contain to speak of the same subject.
SUBJECT_COVERAGE: Final = 0.5
#: Words that ask for the kind of fact, not about what: "how long", "what date", "which city".
_ASKING_WORDS: Final = frozenset(
    {"how", "long", "many", "much", "old", "when", "where", "why", "what", "which", "who", "time", "date",
     "day", "year", "month", "week", "city", "country", "place", "location", "reason", "number", "last",
     "take", "happen", "exact", "exactly", "specific", "held", "hold", "venue", "age", "amount",
     # coming and going: "how many are showing up" counts who attend, whatever the verb
     "show", "showing", "come", "coming", "came", "go", "going", "went", "turn", "turning", "get",
     "getting", "expected", "expect", "up", "there", "now", "gather", "gathering",
     # who says it and for how long, not what: "according to Austin", "keep backing"
     "according", "keep", "keeps", "kept", "still"}
)  # fmt: skip


def _about_the_subject(asked: Asked, doc: Document, lexicon: EntityLexicon) -> bool:
    words = [
        w
        for w in _content_words(asked.text)
        if w not in _ASKING_WORDS and w not in _entity_words(asked, lexicon)
    ]
    if not words:
        return True
    stems = _read(doc).stems
    # Read as the entries word it: "upcoming" is "next", a typo its correction.
    said = (stem(_QUALIFIER_KIN.get(w, asked.read_as.get(w, w))) for w in words)
    return sum(s in stems for s in said) >= SUBJECT_COVERAGE * len(words)


def _entity_words(asked: Asked, lexicon: EntityLexicon) -> set[str]:
    """The words of the question that name its entities (as typed, not every alias: "minister"
    in "Prime Minister Kishida" is an entity's word, in "the foreign minister" it is not)."""
    cased = cased_tokens(asked.text)
    return {t.lower() for m in lexicon.recognize_tokens(cased, frozenset()) for t in cased[m.start : m.end]}


#: Words nearly every entry could say ("Did the ministers discuss Taiwan at the meeting?"): an
#: entry saying them says nothing of the rest of the question, so cannot correct its premise.
_ANY_ENTRY_WORDS: Final = frozenset(
    {"meeting", "meet", "met", "ministers", "minister", "discuss", "discussed", "talk", "talked", "talks",
     "say", "said", "mention", "mentioned", "article", "statement", "joint", "2+2", "did", "ever"}
)  # fmt: skip


#: Kinds of entity a proposition is about: "Is *Japan* sending weapons?" is not said by an entry
#: about what the United States will do.
_SUBJECT_KINDS: Final = frozenset({"person", "country", "organization"})


def _names_its_subjects(asked: Asked, doc: Document, lexicon: EntityLexicon) -> bool:
    about = doc.entities | doc.mentioned
    return all(e in about for e in asked.named - asked.unknown if lexicon.kind(e) in _SUBJECT_KINDS)


def says_the_rest(asked: Asked, doc: Document, lexicon: EntityLexicon) -> bool:
    """Whether the entry says all of the question but its premise, its named entities and the
    words the article never uses: then it speaks to what was asked, and can answer or correct."""
    return _names_its_subjects(asked, doc, lexicon) and _covers_the_rest(
        asked, _read(doc).stems, lexicon, min_words=1
    )


def _covers_the_rest(
    asked: Asked, stems: frozenset[str], lexicon: EntityLexicon, min_words: int = CORRECTION_MIN_WORDS
) -> bool:
    """Whether the entry states the rest of the question's proposition (all but the premise).

    Correcting a premise needs more of the rest said (`CORRECTION_MIN_WORDS`) than answering.
    """
    entity_words = _entity_words(asked, lexicon)
    rest = [
        asked.read_as.get(w, w)
        for w in _content_words(asked.text)
        if w not in entity_words and w not in asked.unsupported and w not in _ANY_ENTRY_WORDS
    ]
    said = sum(stem(w) in stems for w in rest)
    if len(rest) < min_words:
        # One word short of enough is enough only if the entry says every one of them.
        return len(rest) == min_words - 1 and len(rest) > 0 and said == len(rest)
    return said >= CORRECTION_COVERAGE * len(rest)


#: Words that may stand between a person and the role claimed for them ("Is Hayashi *the*
#: defense minister?", "Austin *is the* Secretary of State, right?").
_COPULA: Final = frozenset({"is", "was", "isnt", "wasnt"})
_LINKING: Final = _COPULA | frozenset({"the", "a", "an", "really", "actually", "also", "still", "did"})


class IdentityClaim(NamedTuple):
    """ "Is Hayashi the defense minister?": one person (`person`, named) said to be another
    (`claimed`, named by role) whom the article knows as someone else."""

    person: str
    claimed: str


def identity_claim(question: str, lexicon: EntityLexicon) -> IdentityClaim | None:
    """The identity a yes/no question claims between two people the article names, if any."""
    cased = cased_tokens(question)
    lower = [t.lower() for t in cased]
    people = [
        m
        for m in lexicon.recognize_tokens(cased, frozenset())
        if m.in_source and lexicon.kind(m.entity_id) == "person"
    ]
    if len(people) != 2 or people[0].entity_id == people[1].entity_id:
        return None
    first, second = people
    between = lower[first.end : second.start]
    if not set(between) <= _LINKING or not _COPULA & set(lower[: first.start] + between):
        return None
    if len(lower) > second.end and lower[second.end] not in {"right", "correct", "true"}:
        return None  # "Was Blinken the Secretary of State's guest?": more is said than an identity
    # The first named is the subject: "Is Hayashi the defense minister?" is about Hayashi.
    return IdentityClaim(first.entity_id, second.entity_id)
