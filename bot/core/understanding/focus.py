"""What kind of fact a question asks for, so an entry about the right topic that does not state
that fact is not passed off as the answer.

"How much money did Japan pledge?" is about Japan's support for Ukraine, which the article
covers, but it asks for an amount, which the article never gives: the honest answer is "the
article doesn't give an amount", not the nearest passage about support. Entries declare which
facts they state (`answers: [place, date]`); the answer service compares that with the focus.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal, NamedTuple, get_args

#: The kinds of fact an entry can state and a question can ask for.
Facet = Literal[
    "person", "role", "place", "date", "time", "number", "duration", "age", "reason", "reaction", "outcome",
    "quote", "name",
]  # fmt: skip
FACETS: Final[tuple[str, ...]] = get_args(Facet)

#: How a decline names the missing fact ("The article doesn't say where.").
MISSING: Final[dict[str, str]] = {
    "person": "doesn't say who",
    "role": "doesn't give that person's role",
    "place": "doesn't say where",
    "date": "doesn't give that date",
    "time": "doesn't give the time of day",
    "number": "doesn't give that number or amount",
    "duration": "doesn't say how long",
    "age": "doesn't give anyone's age",
    "reason": "doesn't give a reason for that",
    "reaction": "doesn't report that reaction",
    "outcome": "doesn't report that outcome",
    "quote": "doesn't quote that",
    "name": "doesn't give that name",
}

# Checked in order: the first pattern that matches decides the focus. Specific before general:
# "how long" before "how", "what time" before "what date".
_FOCUS_PATTERNS: Final[tuple[tuple[Facet, str], ...]] = (
    ("age", r"\bhow old\b|\bages?\b|\bborn\b|\bbirthday\b|\byears old\b"),
    (
        "duration",
        r"\bhow long\b|\bduration\b|\bfor how many\b|\bhow much time\b"
        r"|\bhow many (?:hours|minutes|days|weeks|months|years)\b"
        r"|\blast(?:ed)? for\b|\bin office\b|\buntil when\b|\btill when\b",
    ),
    (
        "number",
        r"\bhow (?:many|much)\b|\bamount\b|\bnumber of\b|\bhow big\b|\bcost\b|\bmoney\b|\bdollars?\b"
        r"|\byen\b|\bbudget\b|\bbillions?\b|\bmillions?\b|\bfunding\b|\bpercent|\bsize of\b|\bhow large\b"
        r"|\bcasualt|\bdeath toll\b|\bfigure\b",
    ),
    (
        "reaction",
        r"\b(?:react|reacted|reaction|reactions|respond|responded|response|responses|reply|replied"
        r"|retort|retorted|pushback)\b",
    ),
    ("reason", r"\bwhy\b|\breasons?\b|\bpurpose\b|\bhow come\b|\bwhat for\s*\??$|\bmotivat|\brationale\b"),
    # "Which Latin expression does the article use?", "What word did they use?": someone's words.
    ("quote", r"^(?:\w+ )?(?:what|which) (?:\w+ )?(?:word|words|phrase|expression|term|wording)\b"),
    (
        "outcome",
        r"\b(?:decided|decide|decision|decisions|agreed|agree|agreement|agreements|outcome|outcomes|result"
        r"|results|conclusion|concluded|achieve|achieved|accomplish|accomplished|signed|approved|accepted"
        r"|accept|announced|announce|pledged|pledge|promised|commit|committed)\b",
    ),
    ("time", r"\b(?:what|which) time\b|\bwhat hour\b|\bo ?clock\b|\b(?:am|pm)\b|\btime of day\b"),
    (
        "date",
        r"\bwhen\b|\bwhat (?:exact |specific |precise )?(?:date|day|weekday|time|year|month|week)s?\b"
        r"|\bwhich (?:exact |specific |precise )?(?:date|day|weekday|year|month|week)s?\b"
        r"|\bdates?\b|\bon what day\b|\bhow soon\b",
    ),
    (
        "place",
        r"\bwhere\b|\b(?:what|which) (?:(?!the\b)\w+ ){0,2}(?:city|country|countries|place|location"
        r"|venue|building|base|town|region|state|part of the world|continent|hotel|room)\b"
        r"|\blocation\b|\bvenue\b|\bin what city\b",
    ),
    (
        "person",
        r"\b(?:what|which) (?:two|three|four|both) (?:\w+ )?(?:ministers|officials|people|leaders)\b"
        r"|\bwho\b|\bwhom\b|\bwhose\b|\b(?:what|which) (?:(?!things?\b|the\b)\w+ )?"
        r"(?:minister|ministers|official|officials|person|people|reporter|journalist|secretary|leader|leaders|politician|photographer|author|outlet"
        r"|site|newspaper|paper|agency|media|news)\b"
        r"|\bname the\b|\bnames? of (?:the )?(?:\w+ ){0,2}(?:minister|secretary|official|person|people"
        r"|photographer|author|reporter|president|leader)s?\b",
    ),
    (
        "name",
        r"\b(?:what|which) (?:is|was|are|were) (?:it|they|the \w+(?: \w+)?) called\b|\bname of\b"
        # "What is the program named?", not "the ones he named" (which he mentioned).
        r"|\b(?:is|was|are|were|be) (?:\w+ )?named\b|\btitle of\b|\bcalled what\b"
        r"|\bwhat (?:is|was) the name\b|\bnames of\b",
    ),
    (
        "role",
        r"\b(?:what|which) (?:is|was|are|were) (?:\w+ ){1,3}"
        r"(?:position|job|title|role|post|portfolio)s?\b(?! on\b)"
        r"|\b(?:position|job|title|role|portfolio)s? (?:of|does|did)\b(?!.*\b(?:photo|picture|image|pic)\b)"
        # "What does Austin do?" asks for a job; "what did Russia do with nukes" for an act.
        r"|\bwhat does \w+(?: \w+)? do(?: for (?:a living|work))?\s*(?:[?.!]|$)",
    ),
)
_FOCUS_RULES: Final = tuple((facet, re.compile(pattern)) for facet, pattern in _FOCUS_PATTERNS)
#: "exact date", "which specific weapons": a finer fact than a general statement gives.
_SPECIFIC = re.compile(
    # "which specific area/topic" asks for a category, which a general statement can give.
    r"\b(?:exact|specific(?! (?:areas?|sectors?|topics?|issues?|parts?|fields?|aspects?|kinds?|types?)\b)"
    r"|specifically|precise|particular|which \w+ in|what day in"
    # "What does the program actually involve?" asks for its contents.
    r"|(?:actually |exactly )?(?:involve|involves|entail|entails|consist of|consists of)\b"
    r"|(?:exactly|precisely) (?:how|when|where|which|who|what (?:date|day|time|number|amount))"
    r"|(?:date|day|time|number|amount)s? (?:exactly|precisely)"
    r"|(?:when|who|how many|how much) (?:exactly|precisely)"
    r"|(?:what|which) \w+(?: \w+)? (?:exactly|precisely)"
    r"|(?:which|what) (?:\w+ ){0,2}"
    r"(?:city|town|building|base|room|hotel|street|address|airport|ministry|hall))\b"
)
#: "Besides the nuclear rhetoric, what was the other one?": the rest of a list the article gives,
#: not someone or something beyond it.
_THE_OTHER = re.compile(
    r"\bthe (?:other|second|remaining|last) (?:one|thing|item|part|point)s?\b"
    r"|\bthe others\b"
)
_OTHERS = re.compile(
    r"\b(?:who|what|anyone|anybody|anything|someone) else\b|\bbesides\b|\bother than\b|\bapart from\b"
    r"|\b(?:which|what|any) other\b|\bthe other (?!one\b|thing\b|item\b|part\b|point\b)\w+s\b"
)
#: "did Zelensky end up going", "in the end", "so far": what happened after the article was written.
_AFTERWARDS = re.compile(
    r"\b(?:end(?:ed)? up|in the end|eventually|ultimately|afterwards?|so far|since then|turned out|by now"
    r"|to date|follow(?:ed)? through)\b"
)
_YES_NO_OPENERS: Final = frozenset(
    {
        "is", "was", "were", "are", "did", "does", "do", "has", "have", "had", "will", "would", "can",
        "could", "should", "isnt", "wasnt", "werent", "arent", "didnt", "doesnt", "dont", "hasnt",
        "havent", "wont", "wouldnt", "cant", "couldnt",
    }
)  # fmt: skip
#: Words that move a question to another occasion than the one the article reports.
QUALIFIERS: Final = frozenset(
    {"previous", "prior", "last", "earlier", "next", "upcoming", "future", "following", "later", "former",
     "first"}
)  # fmt: skip
_WORD = re.compile(r"[a-z0-9+]+")
_SPANS: Final = tuple([w] for w in ("week", "weeks", "month", "months", "year", "years", "day", "days"))
#: "the first 2+2", "their first meeting": "first" as an occasion's qualifier.
_THE_FIRST: Final = re.compile(r"\b(?:the|a|its|their|this|that)\s+first\b")


@dataclass(frozen=True)
class Focus:
    #: The kind of fact asked for; None for an open question ("what about NATO?").
    facet: Facet | None
    #: A yes/no question ("Was it held in Tokyo?").
    yes_no: bool = False
    #: Asks for an exact or specific fact ("exact date", "which specific sanctions").
    specific: bool = False
    #: Words that place the question on another occasion ("previous", "next").
    qualifiers: frozenset[str] = frozenset()
    #: Asks for others than those named ("who else", "besides the four ministers").
    others: bool = False


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower().replace("'", "").replace("\u2019", ""))


#: In a yes/no question only these kinds of fact are asked for ("Did they agree to ...?");
#: "Did it say anything about NATO?" asks about a topic, not for a quotation.
_YES_NO_FACETS: Final = frozenset({"outcome", "reaction", "number", "age", "duration"})
#: "could you list ...", "can you tell me ...": requests, not yes/no questions.
_REQUEST = re.compile(r"^(?:can|could|would|will) (?:you|u|someone|anyone|somebody) ")
#: A question word opens the question: its clause decides the focus ("what did Blinken say ...
#: when the reporter asked" asks for words, not a date).
_OPENER = re.compile(
    r"^(?:(?:in|on|at|for|from|to|by|with|of) )?(?:who|whom|whose|what|which|when|where|why|how)\b"
)


def focus_of(question: str) -> Focus:
    """The focus of one question (one part of a message, chat noise already removed)."""
    words = _words(question)
    text = " ".join(words)
    yes_no = bool(words) and words[0] in _YES_NO_OPENERS and not _REQUEST.match(text)
    facet: Facet | None = None
    # Read the focus from the first clause when a question word opens it.
    opener = _OPENER.match(text)
    scope = text
    if opener is not None:
        clause_end = re.search(r"\b(?:when|where|while|because|after|before|if)\b", text[opener.end() :])
        scope = text[: opener.end() + clause_end.start()] if clause_end else text
    for candidate, pattern in _FOCUS_RULES:
        if pattern.search(scope):
            facet = candidate
            break
    if yes_no and facet not in _YES_NO_FACETS:
        facet = None
    # "How long did the meeting last" is a duration, not "the last meeting".
    # "the following week", "next month": a time span, not an occasion ("the next 2+2").
    qualifiers = frozenset(
        w for at, w in enumerate(words) if w in QUALIFIERS and words[at + 1 : at + 2] not in _SPANS
    )
    if "first" in qualifiers and not _THE_FIRST.search(text):
        qualifiers -= {"first"}  # "which paper said it first" orders reports, not occasions
    if _AFTERWARDS.search(text):
        qualifiers |= {"later"}
    if facet == "duration":
        qualifiers -= {"last"}
    return Focus(
        facet=facet,
        yes_no=yes_no,
        specific=bool(_SPECIFIC.search(text)),
        qualifiers=qualifiers,
        others=bool(_OTHERS.search(text)) and not _THE_OTHER.search(text),
    )


#: Month and weekday names: the words that name a day (read here and by `answerability`).
CALENDAR_WORDS: Final = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
)
#: What a passage must contain to state each kind of fact; used for passages whose facts are not
#: declared (a moderator's entry, a sentence of the article).
_STATES: Final[dict[str, re.Pattern[str]]] = {
    "date": re.compile(rf"\b(?:{CALENDAR_WORDS})\b|\b(?:19|20)\d\d\b"
                       r"|\b(?:next|last|this|past) (?:week|year|month)\b"
                       r"|\byesterday\b|\btoday\b|\btomorrow\b"),
    "number": re.compile(r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?"
                         r"|hundreds?|thousands?|millions?|billions?|fifty|twenty|thirty|forty)\b"),
    "duration": re.compile(
        r"\bfor (?:\w+ )?(?:hours?|days?|weeks?|months?|years?)\b|\bas long as\b|\buntil\b"
    ),
    "age": re.compile(r"\byears? old\b|\baged? \d"),
    "reason": re.compile(r"\bbecause\b|\bso that\b|\bin order to\b|\bthat'?s why\b|\breasons?\b|\bsince\b"),
    "quote": re.compile(r"[\"\u201c\u201d]|\bsaid\b|\bsays\b"),
    "role": re.compile(r"\b(?:minister|secretary|president|chancellor|prime minister|spokesperson|chief)\b"),
    "outcome": re.compile(r"\b(?:agreed|decided|affirmed|concurred|endorsed|condemned|accused|welcomed"
                          r"|outcomes?|results?)\b"),
    "reaction": re.compile(r"\b(?:responded|reacted|replied|in (?:an )?answer to|response)\b"),
}  # fmt: skip


def stated_facets(text: str, *, people: bool, places: bool) -> frozenset[str]:
    """The kinds of fact a passage states, read from its words (and whether it names people or
    places, which the caller knows from entity recognition)."""
    lower = text.lower()
    found = {facet for facet, pattern in _STATES.items() if pattern.search(lower)}
    if people:
        found.add("person")
    if places:
        found.add("place")
    # A passage that names things can answer "what is it called".
    if re.search(r"\b[A-Z][a-z]+(?: [A-Z][a-z]+)+", text):
        found.add("name")
    return frozenset(found)


#: "in DC or Tokyo", "on Wednesday or Thursday", "the 2022 or 2023 one": two alternatives offered.
_CHOICE: Final = re.compile(
    r"\b(?P<first>[\w.+-]+)\s+or\s+(?:(?:in|on|at|near|during|the)\s+)?(?P<second>[\w.+-]+)\b",
    re.IGNORECASE,
)
#: "or not", "or no", "or something": a tag, not a second alternative.
_NOT_AN_ALTERNATIVE: Final = frozenset(
    "not no nah nope something anything what whatever so else two more less".split()
)


class Choice(NamedTuple):
    """The two alternatives a question offers, and the question without them."""

    first: str
    second: str
    rest: str
    #: Whether the alternatives are where something is ("in DC or Tokyo").
    located: bool = False
    #: "date" when the alternatives are days ("January 11 or January 12").
    days: bool = False


_MONTH: Final = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_ORDINAL_DAY: Final = r"\d{1,2}(?:st|nd|rd|th)?"
#: One day as an alternative: "January 11", "Jan. 12th", "the 11th", "11 January".
DAY_ALTERNATIVE: Final = (
    rf"(?:{_MONTH}\s+{_ORDINAL_DAY}|(?:the\s+)?\d{{1,2}}(?:st|nd|rd|th)|{_ORDINAL_DAY}\s+{_MONTH})"
)
#: "on January 11 or January 12", "the 11th or the 12th", "Jan 11 or 12": a choice of days.
_DAY_CHOICE: Final = re.compile(
    rf"\b(?P<first>{DAY_ALTERNATIVE})\s+or\s+(?:on\s+)?(?P<second>{DAY_ALTERNATIVE}|{_ORDINAL_DAY})(?!\w)",
    re.IGNORECASE,
)


def choice_of(question: str) -> Choice | None:
    """The two alternatives a question offers ("Was it in DC or Tokyo?" -> DC, Tokyo): it asks
    which one, not yes or no."""
    day = _DAY_CHOICE.search(question)
    if day is not None:
        head = re.sub(r"\b(?:on|the)\s*$", "", question[: day.start()].rstrip())
        rest = re.sub(r"\s+(?=[?!.,])", "", f"{head.rstrip()} {question[day.end() :].lstrip()}")
        return Choice(day.group("first"), day.group("second"), rest.strip(), days=True)
    for match in _CHOICE.finditer(question):
        first, second = match.group("first"), match.group("second")
        if second.lower() not in _NOT_AN_ALTERNATIVE and first.lower() not in _NOT_AN_ALTERNATIVE:
            before = question[: match.start()].split()
            located = bool(before) and before[-1].lower() in {"in", "at", "near"}
            if second.lower() in {"other", "another"} and not located:
                return None  # "tanks or other equipment": both asked about, not one of two
            if located:
                before = before[:-1]
            rest = " ".join([*before, *question[match.end() :].split()])
            return Choice(first, second, re.sub(r"\s+(?=[?!.,])", "", rest), located)
    return None
