"""What the retrieval engine searches: Q&A entries and quotations as uniform documents.

A quotation becomes a document whose phrasings are the questions it answers ("What did Blinken
say about Putin?"), so one matcher serves both, and speaker questions draw on the quote store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, NamedTuple

from bot.core.entities import EntityLexicon
from bot.core.models import Citation, Decline, Entry, Quote, Scope
from bot.core.understanding.focus import stated_facets


class Cited(NamedTuple):
    """A citation as a document holds it: the fields of `Citation` in a plain tuple, a sixth of
    the memory of the validated model (thousands of server entries hold one each)."""

    source: str
    excerpt: str
    speaker: str | None = None
    location: str | None = None


#: One shared empty set: most documents name no one in passing, and each empty frozenset costs
#: 216 bytes (times thousands of server entries).
_NONE: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Document:
    key: str  # unique within a scope: the entry id, "quote:<id>" or "decline:<id>"
    scope: Scope
    #: "decline" documents recognise small talk; they never answer from the source. A "passage"
    #: is one sentence of a source, searched only when no entry answers (see `bot.core.fallback`).
    kind: Literal["entry", "quote", "decline", "passage"]
    questions: tuple[str, ...]  # how users ask it (shown as suggestions and autocomplete)
    answer: str
    citations: tuple[Cited, ...]
    #: Extra text that makes the document findable but is not a phrasing (answer, excerpts, tags).
    body: str
    #: What the document is about: its declared entities and those its phrasings name.
    entities: frozenset[str] = _NONE
    #: Entities only named in passing, in the answer or an excerpt.
    mentioned: frozenset[str] = _NONE
    #: Whose words the document quotes (entity ids); empty when it quotes nobody in particular.
    speakers: frozenset[str] = _NONE
    #: The kinds of fact it states (see `Entry.answers`), ...
    answers: frozenset[str] = _NONE
    #: ... those it states only roughly, ...
    approximate: frozenset[str] = _NONE
    #: ... whether it speaks in general terms only, ...
    general: bool = False
    #: ... and whether it says what the article does not tell (the bot then declines with it).
    not_in_article: bool = False

    @property
    def title(self) -> str:
        return self.questions[0]


#: Tags that steer presentation (/about, starter suggestions), not topic: never matched on.
CONTROL_TAGS = frozenset({"about", "starter"})
#: Entity sets seen so far, so documents about the same entities share one set (bounded).
_SETS: dict[frozenset[str], frozenset[str]] = {}
_SETS_MAX = 4096


def _ids(ids: Iterable[str]) -> frozenset[str]:
    found = frozenset(ids)
    if not found:
        return _NONE
    shared = _SETS.get(found)
    if shared is None:
        if len(_SETS) >= _SETS_MAX:
            _SETS.clear()
        shared = _SETS[found] = found
    return shared


def _cited(citation: Citation) -> Cited:
    return Cited(citation.source, citation.excerpt, citation.speaker, citation.location)


def entry_document(entry: Entry, scope: Scope, lexicon: EntityLexicon) -> Document:
    topic_tags = [t for t in entry.tags if t not in CONTROL_TAGS]
    body = " ".join([entry.answer, *(c.excerpt for c in entry.citations), *topic_tags])
    about = {m.entity_id for q in entry.questions for m in lexicon.recognize(q)} | set(entry.entities)
    mentioned = {m.entity_id for m in lexicon.recognize(entry.answer)}
    speakers = {m.entity_id for c in entry.citations if c.speaker for m in lexicon.recognize(c.speaker)}
    answers: frozenset[str]
    if entry.answers is not None:
        answers = frozenset(entry.answers)
    else:
        answers = _stated(" ".join([entry.answer, *(c.excerpt for c in entry.citations)]), lexicon)
    return Document(
        key=entry.id,
        scope=scope,
        kind="entry",
        questions=tuple(entry.questions),
        answer=entry.answer,
        citations=tuple(_cited(c) for c in entry.citations),
        body=body,
        entities=_ids(e for e in about if e in lexicon),
        mentioned=_ids(e for e in mentioned - about if e in lexicon),
        speakers=_ids(speakers),
        answers=_ids(answers),
        approximate=_ids(entry.approximate),
        general=entry.general,
        not_in_article=entry.not_in_article,
    )


#: A quotation states someone's words ("who said it" is answered through its speaker).
_QUOTE_FACETS = frozenset({"quote"})


def _stated(text: str, lexicon: EntityLexicon) -> frozenset[str]:
    """The kinds of fact an undeclared passage states, read from its words and the entities it names."""
    kinds = {e.kind for m in lexicon.recognize(text) if (e := lexicon.get(m.entity_id)) is not None}
    return stated_facets(text, people="person" in kinds, places=bool(kinds & {"place", "country"}))


def quote_document(quote: Quote, lexicon: EntityLexicon) -> Document:
    speaker = lexicon.get(quote.speaker)
    name = speaker.name if speaker else quote.speaker
    # The first alias is the everyday short name ("Blinken"), which is how people ask.
    short = speaker.aliases[0] if speaker and speaker.aliases else name
    questions = [f"What did {short} say about {topic}?" for topic in quote.topics]
    if not questions:
        questions = [f"What did {short} say?"]
    questions.append(f"{short} quote: {quote.context}")
    answer = f"{name} ({quote.context.rstrip('.')}): \u201c{quote.text}\u201d"
    mentioned = {m.entity_id for m in lexicon.recognize(quote.text)}
    return Document(
        key=f"quote:{quote.id}",
        scope=None,
        kind="quote",
        questions=tuple(questions),
        answer=answer,
        citations=(Cited(quote.source, quote.text, name, quote.location),),
        body=" ".join([quote.text, quote.context, *quote.topics]),
        entities=_ids({quote.speaker}),
        mentioned=_ids(mentioned - {quote.speaker}),
        speakers=_ids({quote.speaker}),
        answers=_QUOTE_FACETS,
    )


def decline_document(decline: Decline) -> Document:
    return Document(
        key=f"decline:{decline.id}",
        scope=None,
        kind="decline",
        questions=tuple(decline.questions),
        answer=decline.reply,
        citations=(),
        body="",
    )
