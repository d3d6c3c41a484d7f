"""The answer service: question in, `Answer` out. Every adapter (CLI, Discord, tests) uses it.

It never invents: an answer is a curated entry's text plus excerpts proven verbatim at load
time; below the confidence threshold it abstains and offers the closest questions it can answer.
"""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import BaseModel, Field

from bot.core.documents import Document, entry_document, quote_document
from bot.core.engine import Match, QueryAnalysis, RetrievalEngine
from bot.core.entities import EntityLexicon
from bot.core.limits import MAX_QUESTION_CHARS
from bot.core.loader import KnowledgeBase
from bot.core.models import Entry, Scope
from bot.core.text import normalize_query

NOT_KNOWN = "I don't know that from the article."


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
    matched_question: str | None = None

    def contract(self) -> dict[str, object]:
        return self.model_dump(exclude={"matched_question"})


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
        self.engine = RetrievalEngine(self.lexicon)
        for entry in kb.entries:
            self.engine.index_document(entry_document(entry, None, self.lexicon))
        for quote in kb.quotes:
            self.engine.index_document(quote_document(quote, self.lexicon))
        # Offered when nothing is close: the first phrasing of entries tagged "starter".
        self.starters = [e.questions[0] for e in kb.entries if "starter" in e.tags] or [
            e.questions[0] for e in kb.entries[:3]
        ]

    # ---- keeping the index current ------------------------------------------------------
    def load_scope(self, scope: int, entries: Iterable[Entry]) -> None:
        """Replace a server's entries in the index (start-up, import)."""
        self.engine.clear_scope(scope)
        for entry in entries:
            self.upsert_entry(scope, entry)

    def upsert_entry(self, scope: Scope, entry: Entry) -> None:
        self.engine.index_document(entry_document(entry, scope, self.lexicon))

    def remove_entry(self, scope: Scope, entry_id: str) -> None:
        self.engine.remove_document(scope, entry_id)

    # ---- answering ----------------------------------------------------------------------
    def answer(self, question: str, scope: Scope = None) -> Answer:
        text = question.strip()
        if not normalize_query(text):
            return self._abstain(
                question, "Ask me a question about the U.S.\u2013Japan 2+2 meeting of January 11, 2023.", []
            )
        if len(text) > MAX_QUESTION_CHARS:
            return self._abstain(
                question,
                f"That question is too long ({len(text):,} characters); "
                f"please keep it under {MAX_QUESTION_CHARS:,} characters.",
                [],
            )
        query, matches = self.engine.search(text, scope, limit=8)
        if query.unknown_entities:
            names = [self.lexicon.entities[e].name for e in query.unknown_entities]
            return self._abstain(
                question, f"{NOT_KNOWN} The article does not mention {_join(names)}.", matches, query
            )
        if not matches or matches[0].score < self.answer_threshold:
            return self._abstain(question, NOT_KNOWN, matches, query)
        return self._answered(question, matches[0])

    def document(self, scope: Scope, key: str) -> Document | None:
        return self.engine.document(scope, key)

    def render_document(self, question: str, doc: Document, confidence: float = 1.0) -> Answer:
        """An answer from a known document (a chosen suggestion, an entry preview)."""
        return self._answered(question, Match(doc, confidence, 1.0, 1.0, doc.title))

    def autocomplete(self, text: str, scope: Scope = None, limit: int = 25) -> list[str]:
        return self.engine.autocomplete(text, scope, limit)

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
        suggestions: list[str] = []
        # A suggestion about someone else would mislead when the question named an unknown person.
        if query is None or not query.unknown_entities:
            for match in matches:
                if match.score >= self.suggestion_threshold and match.doc.kind == "entry":
                    suggestions.append(match.best_question)
        for starter in self.starters:
            if len(suggestions) >= self.max_suggestions:
                break
            if starter not in suggestions:
                suggestions.append(starter)
        confidence = matches[0].score if matches else 0.0
        return Answer(
            question=question,
            answered=False,
            answer=message,
            confidence=round(min(confidence, self.answer_threshold), 4),
            suggestions=suggestions[: self.max_suggestions],
        )


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
