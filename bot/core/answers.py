"""The answer service: question in, `Answer` out. Every adapter (CLI, Discord, tests) uses it.

It never invents: an answer is a curated entry's text plus excerpts proven verbatim at load
time; below the confidence threshold it abstains and offers the closest questions it can answer.
"""

from __future__ import annotations

from pydantic import BaseModel, Field
from rapidfuzz import fuzz

from bot.core.documents import Document, decline_document, entry_document, quote_document
from bot.core.entities import EntityLexicon
from bot.core.limits import MAX_QUESTION_CHARS
from bot.core.loader import KnowledgeBase
from bot.core.models import Entity, Entry, Quote, Scope
from bot.core.retrieval import Match, QueryAnalysis, RetrievalEngine, asks_for_words
from bot.core.text import normalize_query

NOT_KNOWN = "I don't know that from the article."
#: rapidfuzz score (0..100) a quotation needs to count as being about a /quote topic.
QUOTE_TOPIC_CUTOFF = 80.0


class CitationOut(BaseModel):
    excerpt: str
    source: str
    location: str
    speaker: str | None = None


class Answer(BaseModel):
    """The answer contract (DESIGN.md), plus the matched question for display."""

    question: str
    answered: bool
    answer: str
    confidence: float = Field(ge=0.0, le=1.0)
    citations: list[CitationOut] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list)
    entry_id: str | None = None
    # Not part of the contract: what adapters need to display and follow up on an answer.
    matched_question: str | None = None
    #: The document key behind each suggestion, so choosing one needs no second search.
    suggestion_keys: list[str] = Field(default_factory=list)

    def contract(self) -> dict[str, object]:
        return self.model_dump(exclude={"matched_question", "suggestion_keys"})


class AnswerService:
    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        answer_threshold: float = 0.5,
        suggestion_threshold: float = 0.2,
        max_suggestions: int = 3,
    ) -> None:
        self.kb = kb
        self.answer_threshold = answer_threshold
        self.suggestion_threshold = suggestion_threshold
        self.max_suggestions = max_suggestions
        self.lexicon = EntityLexicon(kb.entities)
        self.engine = RetrievalEngine(self.lexicon, kb.synonyms)
        for entry in kb.entries:
            self.engine.index_document(entry_document(entry, None, self.lexicon))
        for quote in kb.quotes:
            self.engine.index_document(quote_document(quote, self.lexicon))
        for decline in kb.declines:
            self.engine.index_document(decline_document(decline))
        # Offered when nothing is close: the first phrasing of entries tagged "starter".
        starters = [e for e in kb.entries if "starter" in e.tags] or kb.entries[:3]
        self.starters: list[tuple[str, str]] = [(e.questions[0], e.id) for e in starters]

    # ---- keeping the index current ------------------------------------------------------
    def upsert_entry(self, scope: Scope, entry: Entry) -> None:
        self.engine.index_document(entry_document(entry, scope, self.lexicon))

    def remove_entry(self, scope: Scope, entry_id: str) -> None:
        self.engine.remove_document(scope, entry_id)

    # ---- answering ----------------------------------------------------------------------
    def answer(self, question: str, scope: Scope = None) -> Answer:
        text = question.strip()
        # Length first: an over-long question is refused before any work is spent on it.
        if len(text) > MAX_QUESTION_CHARS:
            return self._abstain(
                question,
                f"That question is too long ({len(text):,} characters); "
                f"please keep it under {MAX_QUESTION_CHARS:,} characters.",
                [],
            )
        if not normalize_query(text):
            return self._abstain(
                question, "Ask me a question about the U.S.\u2013Japan 2+2 meeting of January 11, 2023.", []
            )
        query, matches = self.engine.search(text, scope, limit=8)
        if query.unknown_entities:
            names = [self.lexicon.entities[e].name for e in query.unknown_entities]
            return self._abstain(
                question, f"{NOT_KNOWN} The article does not mention {_join(names)}.", matches, query
            )
        if query.speaker and not self.engine.has_speaker_in(query.speaker, scope):
            # Someone the article never quotes: only an entry that says exactly that may answer
            # ("What did Hamada say?" -> "The article does not quote him individually").
            top = matches[0] if matches else None
            speaker = self.lexicon.entities[query.speaker]
            if (
                top is None
                or speaker.kind != "person"
                or query.speaker not in top.doc.entities
                or not asks_for_words(top.best_question)
            ):
                return self._abstain(
                    question, f"{NOT_KNOWN} The article does not quote {speaker.name}.", matches, query
                )
        if not matches or matches[0].score < self.answer_threshold:
            return self._abstain(question, NOT_KNOWN, matches, query)
        if matches[0].doc.kind == "decline":
            # Small talk or a question about the bot: a friendly reply, no claim from the source.
            return self._abstain(question, matches[0].doc.answer, [], query)
        return self._answered(question, matches[0])

    def document(self, scope: Scope, key: str) -> Document | None:
        return self.engine.document(scope, key)

    def render_document(self, question: str, doc: Document, confidence: float = 1.0) -> Answer:
        """An answer from a known document (a chosen suggestion, an entry preview)."""
        return self._answered(question, Match(doc, confidence, 1.0, 1.0, doc.title))

    def autocomplete(self, text: str, scope: Scope = None, limit: int = 25) -> list[str]:
        return self.engine.autocomplete(text, scope, limit)

    # ---- quotations ---------------------------------------------------------------------
    def speakers(self) -> list[Entity]:
        """Everyone with at least one quotation, in order of first appearance."""
        ids = dict.fromkeys(q.speaker for q in self.kb.quotes)
        return [e for e in (self.lexicon.get(i) for i in ids) if e is not None]

    def resolve_speaker(self, text: str) -> str | None:
        """An entity id from an id, a name or an alias as typed (typos tolerated)."""
        if text in self.lexicon:
            return text
        quoted = {q.speaker for q in self.kb.quotes}
        for mention in self.lexicon.recognize(text):
            if mention.entity_id in quoted:
                return mention.entity_id
        return None

    def find_quotes(
        self, speaker: str | None = None, topic: str | None = None, limit: int = 10
    ) -> list[Quote]:
        """Quotations by `speaker` (entity id) about `topic`, best match first."""
        quotes = [q for q in self.kb.quotes if speaker is None or q.speaker == speaker]
        key = normalize_query(topic or "")
        if not key:
            return quotes[:limit]
        scored = []
        for quote in quotes:
            haystack = normalize_query(" ".join([quote.text, quote.context, *quote.topics]))
            score = fuzz.partial_token_set_ratio(key, haystack) if len(key) > 3 else 0.0
            topic_score = max((fuzz.WRatio(key, normalize_query(t)) for t in quote.topics), default=0.0)
            best = max(score, topic_score)
            if best >= QUOTE_TOPIC_CUTOFF:
                scored.append((best, quote))
        scored.sort(key=lambda pair: pair[0], reverse=True)
        return [q for _, q in scored[:limit]]

    def _answered(self, question: str, match: Match) -> Answer:
        doc = match.doc
        return Answer(
            question=question,
            answered=True,
            answer=doc.answer,
            confidence=round(match.score, 4),
            citations=[
                CitationOut(
                    excerpt=c.excerpt,
                    source=self.kb.sources[c.source].label() if c.source in self.kb.sources else c.source,
                    location=c.location or "",
                    speaker=c.speaker,
                )
                for c in doc.citations
            ],
            entry_id=doc.key,
            matched_question=match.best_question,
        )

    def _abstain(
        self, question: str, message: str, matches: list[Match], query: QueryAnalysis | None = None
    ) -> Answer:
        suggestions: dict[str, str] = {}  # document key -> question, best first
        # A suggestion about someone else would mislead when the question named an unknown person.
        if query is None or not query.unknown_entities:
            for match in matches:
                if match.score >= self.suggestion_threshold and match.doc.kind == "entry":
                    suggestions.setdefault(match.doc.key, match.best_question)
        for starter, key in self.starters:
            if len(suggestions) >= self.max_suggestions:
                break
            suggestions.setdefault(key, starter)
        chosen = list(suggestions.items())[: self.max_suggestions]
        confidence = matches[0].score if matches else 0.0
        return Answer(
            question=question,
            answered=False,
            answer=message,
            confidence=round(min(confidence, self.answer_threshold), 4),
            suggestions=[text for _, text in chosen],
            suggestion_keys=[key for key, _ in chosen],
        )


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
