"""Helpers for the retrieval tests: engines built straight from the knowledge base."""

from __future__ import annotations

from benchmarks.synthetic import Synthetic, iter_entries
from bot.core.documents import decline_document, entry_document, quote_document
from bot.core.entities import EntityLexicon
from bot.core.loader import KnowledgeBase
from bot.core.models import Scope
from bot.core.retrieval import DEFAULT_WEIGHTS, RetrievalEngine, ScopeIndex, Weights


def build_engine(kb: KnowledgeBase, weights: Weights = DEFAULT_WEIGHTS) -> RetrievalEngine:
    """An engine over the curated base, as the answer service builds it, with these weights."""
    lexicon = EntityLexicon(kb.entities)
    engine = RetrievalEngine(lexicon, kb.synonyms, weights)
    for entry in kb.entries:
        engine.index_document(entry_document(entry, None, lexicon))
    for quote in kb.quotes:
        engine.index_document(quote_document(quote, lexicon))
    for decline in kb.declines:
        engine.index_document(decline_document(decline))
    return engine


def visible(engine: RetrievalEngine, scope: Scope) -> list[ScopeIndex]:
    """The indexes a question in `scope` reads: the server's own, then the base."""
    if scope is None:
        return [engine.index_of(None)]
    return [engine.index_of(scope), engine.index_of(None)]


def synthetic(kb: KnowledgeBase, count: int, seed: int = 7, prefix: str = "syn") -> list[Synthetic]:
    return list(iter_entries(count, seed=seed, kb=kb, prefix=prefix))
