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
    docs = [
        entry_document(item.entry, GUILD, lexicon) for item in iter_entries(20, seed=1, kb=kb, prefix="share")
    ]
    # Entries that mention nobody (a made-up code name can read as someone's name) share one set.
    unmentioned = [doc.mentioned for doc in docs if not doc.mentioned]
    assert len(unmentioned) >= 2 and all(m is unmentioned[0] for m in unmentioned)
    cite = [Citation(source="article", excerpt="Earlier, Nikkei reported")]
    japan = [
        Entry(id=f"j{i}", questions=["What about Japan?"], answer="Japan.", citations=cite) for i in (1, 2)
    ]
    a, b = (entry_document(e, GUILD, lexicon) for e in japan)
    assert a.entities == {"japan"} and a.entities is b.entities
