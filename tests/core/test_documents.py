"""Documents as the engine holds them: small, since a server may hold thousands."""

from __future__ import annotations

from benchmarks.synthetic import iter_entries
from bot.core.documents import entry_document
from bot.core.entities import EntityLexicon
from bot.core.loader import KnowledgeBase
from bot.core.models import Citation, Entry

GUILD = 501


def test_documents_share_empty_and_repeated_entity_sets(kb: KnowledgeBase) -> None:
    lexicon = EntityLexicon(kb.entities)
    first, second = (
        entry_document(item.entry, GUILD, lexicon) for item in iter_entries(2, seed=1, kb=kb, prefix="share")
    )
    assert first.mentioned is second.mentioned  # the shared empty set
    cite = [Citation(source="article", excerpt="Earlier, Nikkei reported")]
    japan = [
        Entry(id=f"j{i}", questions=["What about Japan?"], answer="Japan.", citations=cite) for i in (1, 2)
    ]
    a, b = (entry_document(e, GUILD, lexicon) for e in japan)
    assert a.entities == {"japan"} and a.entities is b.entities
