"""The per-scope index: bitsets of common terms always agree with the postings."""

from __future__ import annotations

import random

import pytest

from bot.core.answers import AnswerService
from bot.core.loader import KnowledgeBase
from bot.core.retrieval import IdfTable, PhrasingFit, ScopeIndex, index
from bot.core.retrieval import search as search_module
from tests.core.retrieval.helpers import synthetic

GUILD = 501


@pytest.fixture
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bitsets, tie pools and compaction at sizes a unit test can afford."""
    monkeypatch.setattr(index, "DENSE_MIN", 12)
    monkeypatch.setattr(index, "DENSE_DROP", 6)
    monkeypatch.setattr(index, "COMPACT_MIN", 20)
    monkeypatch.setattr(search_module, "TIE_POOL", 16)


def assert_bitsets_match_postings(scope_index: ScopeIndex) -> None:
    for slot, item in enumerate(scope_index.slots):
        assert item is None or (item.slot == slot and scope_index.docs[item.doc.key] is item)
    for term, bits in scope_index.dense.items():
        posting = scope_index.postings[term]
        assert len(posting) >= index.DENSE_DROP
        for weight, value in bits.items():
            want = {item.slot for item, f in posting.items() if f == weight}
            assert {i for i in range(len(scope_index.slots)) if value >> i & 1} == want
    for term, posting in scope_index.postings.items():
        if len(posting) >= index.DENSE_MIN:
            assert term in scope_index.dense


@pytest.mark.usefixtures("small_thresholds")
def test_bitsets_follow_adds_updates_removals_and_compaction(kb: KnowledgeBase) -> None:
    service = AnswerService(kb)
    items = synthetic(kb, 120)
    for item in items:
        service.upsert_entry(GUILD, item.entry)
    scope_index = service.engine.index_of(GUILD)
    assert scope_index.dense, "common terms should have bitsets"
    assert_bitsets_match_postings(scope_index)
    rng = random.Random(3)
    replacements = iter(synthetic(kb, 200, seed=8))
    for step in range(150):
        victim = rng.choice(items).entry.id
        if step % 3 == 0:
            service.remove_entry(GUILD, victim)
        else:
            service.upsert_entry(GUILD, next(replacements).entry.model_copy(update={"id": victim}))
    assert_bitsets_match_postings(scope_index)
    assert len(scope_index.slots) < 120 + 150, "removed slots should have been compacted away"


def test_a_scope_without_documents_reads_as_an_empty_index(kb: KnowledgeBase) -> None:
    engine = AnswerService(kb).engine
    assert engine.index_of(GUILD).docs == {}
    assert engine.index_of(None).docs, "the curated base is indexed"
    assert [d.key for d in engine.documents(GUILD)] == [d.key for d in engine.documents(None)]


def test_phrasing_totals_follow_every_change_to_the_indexes_they_read(kb: KnowledgeBase) -> None:
    """An IDF table memoises each document's phrasing totals; a change to an index it reads
    must give a fresh table, or precision would be computed with stale IDF."""
    service = AnswerService(kb)
    engine = service.engine
    question = "Who attended the 2+2 meeting in Washington?"

    def assert_fresh(scope: int | None) -> None:
        table = engine._idf_table(scope)
        fresh = IdfTable(
            [engine.index_of(GUILD), engine.index_of(None)] if scope else [engine.index_of(None)]
        )
        query = engine.analyze(question, scope)
        fit = PhrasingFit(query, table, engine.formula)
        for scope_index in ([engine.index_of(scope)] if scope else []) + [engine.index_of(None)]:
            for item in scope_index.docs.values():
                fit.figures(item)
                assert table.totals(item) == fresh.totals(item), item.doc.key

    engine.search(question, GUILD)  # fills the server's table
    engine.search(question)  # and the base's
    for item in synthetic(kb, 30):
        service.upsert_entry(GUILD, item.entry)
    assert_fresh(GUILD)
    assert_fresh(None)
    first = next(iter(kb.entries))
    service.upsert_entry(
        None, first.model_copy(update={"questions": [*first.questions, "Who went to Washington?"]})
    )
    assert_fresh(GUILD)
    assert_fresh(None)
    service.remove_entry(GUILD, "syn-00003")
    assert_fresh(GUILD)


def test_made_up_words_do_not_grow_the_idf_memo(service: AnswerService) -> None:
    # Every unknown word weighs the same; memoising each one grew memory without bound.
    table = IdfTable([service.engine.index_of(None)])
    rng = random.Random(11)
    known = table.get("meet")
    for _ in range(2000):
        word = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(9))
        assert table.get(word) == table.unknown_weight
    assert table.cached_terms == 1
    assert table.get("meet") == known
