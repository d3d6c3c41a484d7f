"""What the retrieval engine searches: Q&A entries and quotations as uniform documents.

A quotation becomes a document whose phrasings are the questions it answers ("What did Blinken
say about Putin?"), so one matcher serves both, and speaker questions draw on the quote store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.core.entities import EntityLexicon
from bot.core.models import Citation, Entry, Quote, Scope


@dataclass(frozen=True)
class Document:
    key: str  # unique within a scope: the entry id, or "quote:<id>"
    scope: Scope
    kind: Literal["entry", "quote"]
    questions: tuple[str, ...]  # how users ask it (shown as suggestions and autocomplete)
    answer: str
    citations: tuple[Citation, ...]
    #: Extra text that makes the document findable but is not a phrasing (answer, excerpts, tags).
    body: str
    #: What the document is about: its declared entities and those its phrasings name.
    entities: frozenset[str] = field(default_factory=frozenset)
    #: Entities only named in passing, in the answer or an excerpt.
    mentioned: frozenset[str] = field(default_factory=frozenset)
    #: Whose words the document quotes (entity ids); empty when it quotes nobody in particular.
    speakers: frozenset[str] = field(default_factory=frozenset)

    @property
    def title(self) -> str:
        return self.questions[0]


#: Tags that steer presentation (/about, starter suggestions), not topic: never matched on.
CONTROL_TAGS = frozenset({"about", "starter"})


def entry_document(entry: Entry, scope: Scope, lexicon: EntityLexicon) -> Document:
    topic_tags = [t for t in entry.tags if t not in CONTROL_TAGS]
    body = " ".join([entry.answer, *(c.excerpt for c in entry.citations), *topic_tags])
    about = {m.entity_id for q in entry.questions for m in lexicon.recognize(q)} | set(entry.entities)
    mentioned = {m.entity_id for m in lexicon.recognize(entry.answer)}
    speakers = {m.entity_id for c in entry.citations if c.speaker for m in lexicon.recognize(c.speaker)}
    return Document(
        key=entry.id,
        scope=scope,
        kind="entry",
        questions=tuple(entry.questions),
        answer=entry.answer,
        citations=tuple(entry.citations),
        body=body,
        entities=frozenset(e for e in about if e in lexicon),
        mentioned=frozenset(e for e in mentioned - about if e in lexicon),
        speakers=frozenset(speakers),
    )


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
        citations=(Citation(source=quote.source, excerpt=quote.text, speaker=name, location=quote.location),),
        body=" ".join([quote.text, quote.context, *quote.topics]),
        entities=frozenset({quote.speaker}),
        mentioned=frozenset(mentioned - {quote.speaker}),
        speakers=frozenset({quote.speaker}),
    )
