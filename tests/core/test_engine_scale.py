"""The matcher at scale: its shortcuts give exactly what a full scan gives, deterministically.

The engine skips work (common terms ranked with bitsets, re-scoring stopped once nothing can
place, typo search limited to a length band); each test compares a shortcut with the plain
computation it replaces. Timing is the benchmark's job (`python -m benchmarks`), not a test's.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import textwrap
import unicodedata
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz, process

from benchmarks.synthetic import Synthetic, aimed_questions, base_mix, iter_entries, typing_prefixes
from bot.core import engine as E
from bot.core.answers import AnswerService
from bot.core.documents import entry_document
from bot.core.engine import Match, QueryAnalysis, RetrievalEngine, ScopeIndex, Vocabulary, _Indexed
from bot.core.entities import EntityLexicon
from bot.core.loader import KnowledgeBase
from bot.core.models import Citation, Entity, Entry
from bot.core.text import cased_tokens, stem, strip_accents
from bot.settings import PROJECT_ROOT

GUILD, OTHER = 501, 502

# ---- the typo index ---------------------------------------------------------------------------
WORDS = st.text(alphabet="abcdeo", min_size=1, max_size=9)


def closest_by_scan(token: str, words: set[str]) -> tuple[str, float] | None:
    """What typo correction did before the index: one pass over the sorted words in the band."""
    band = [w for w in sorted(words) if abs(len(w) - len(token)) <= E.TYPO_LENGTH_BAND]
    found = process.extractOne(token, band, scorer=fuzz.ratio, score_cutoff=E.TYPO_CUTOFF)
    return None if found is None else (found[0], float(found[1]))


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, max_size=40), st.lists(WORDS, max_size=15), st.lists(WORDS, min_size=1, max_size=8))
def test_vocabulary_agrees_with_a_sorted_scan(
    added: list[str], removed: list[str], tokens: list[str]
) -> None:
    vocab = Vocabulary()
    counts: dict[str, int] = {}
    vocab.add(added)
    for word in added:
        counts[word] = counts.get(word, 0) + 1
    for token in tokens:  # fill the memo before the words change
        vocab.closest(token)
    vocab.remove(removed)
    for word in removed:
        if word in counts:
            counts[word] -= 1
            if not counts[word]:
                del counts[word]
    words = set(counts)
    assert list(vocab) == sorted(words)
    assert len(vocab) == len(words)
    for token in tokens:
        assert vocab.closest(token) == closest_by_scan(token, words)
        prefix = token[:2]
        assert vocab.with_prefix(prefix, 8) == [w for w in sorted(words) if w.startswith(prefix)][:8]
        assert (token in vocab) == (token in words)


def test_typo_memo_forgets_when_a_closer_word_arrives() -> None:
    vocab = Vocabulary()
    vocab.add(["meeting"])
    assert vocab.closest("meetinga") == ("meeting", fuzz.ratio("meetinga", "meeting"))
    vocab.add(["meetinga"])
    assert vocab.closest("meetinga") == ("meetinga", 100.0)
    vocab.remove(["meetinga"])
    assert vocab.closest("meetinga") == ("meeting", fuzz.ratio("meetinga", "meeting"))


# ---- the dense-term bitsets ---------------------------------------------------------------------
@pytest.fixture
def small_thresholds(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bitsets, tie pools and compaction at sizes a unit test can afford."""
    monkeypatch.setattr(E, "DENSE_MIN", 12)
    monkeypatch.setattr(E, "DENSE_DROP", 6)
    monkeypatch.setattr(E, "COMPACT_MIN", 20)
    monkeypatch.setattr(E, "TIE_POOL", 16)


def assert_bitsets_match_postings(index: ScopeIndex) -> None:
    for slot, item in enumerate(index.slots):
        assert item is None or (item.slot == slot and index.docs[item.doc.key] is item)
    for term, bits in index.dense.items():
        posting = index.postings[term]
        assert len(posting) >= E.DENSE_DROP
        for weight, value in bits.items():
            want = {item.slot for item, f in posting.items() if f == weight}
            assert {i for i in range(len(index.slots)) if value >> i & 1} == want
    for term, posting in index.postings.items():
        if len(posting) >= E.DENSE_MIN:
            assert term in index.dense


def synthetic(kb: KnowledgeBase, count: int, seed: int = 7, prefix: str = "syn") -> list[Synthetic]:
    return list(iter_entries(count, seed=seed, kb=kb, prefix=prefix))


@pytest.mark.usefixtures("small_thresholds")
def test_bitsets_follow_adds_updates_removals_and_compaction(kb: KnowledgeBase) -> None:
    service = AnswerService(kb)
    items = synthetic(kb, 120)
    for item in items:
        service.upsert_entry(GUILD, item.entry)
    index = service.engine._scopes[GUILD]
    assert index.dense, "common terms should have bitsets"
    assert_bitsets_match_postings(index)
    rng = random.Random(3)
    replacements = iter(synthetic(kb, 200, seed=8))
    for step in range(150):
        victim = rng.choice(items).entry.id
        if step % 3 == 0:
            service.remove_entry(GUILD, victim)
        else:
            service.upsert_entry(GUILD, next(replacements).entry.model_copy(update={"id": victim}))
    assert_bitsets_match_postings(index)
    assert len(index.slots) < 120 + 150, "removed slots should have been compacted away"


# ---- exactness of the shortcuts ------------------------------------------------------------------
def plain_coverages(query: QueryAnalysis, indexes: list[ScopeIndex]) -> dict[_Indexed, float]:
    out: dict[_Indexed, float] = {}
    for index in indexes:
        for term, weight in query.terms.items():
            for item, f in index.postings.get(term, {}).items():
                out[item] = out.get(item, 0.0) + weight * f
    return out


Scored = tuple[str, float, float, float, str]


def plain_score(query: QueryAnalysis, item: _Indexed, coverage: float, idf: E.IdfTable) -> Scored:
    """The re-scoring formula as one plain pass over every phrasing (the pre-optimisation code)."""
    best_fit, best_at, best_sim = -1.0, 0, 0.0
    for at, (key, terms) in enumerate(zip(item.keys, item.key_terms, strict=True)):
        sim = E._phrase_similarity(query.key, key) / 100.0
        total = sum(idf.get(t, 1.0) for t in terms)
        precision = sum(idf.get(t, 1.0) for t in terms if t in query.terms) / total if total else 0.0
        fit = E.PHRASE_SIM_WEIGHT * sim + (1.0 - E.PHRASE_SIM_WEIGHT) * precision
        if fit > best_fit:
            best_fit, best_at, best_sim = fit, at, sim
    score = E.COVERAGE_WEIGHT * coverage + (1.0 - E.COVERAGE_WEIGHT) * best_fit
    if query.entities and not (query.entities & item.doc.entities):
        score *= E.ENTITY_MISS_FACTOR
    score *= math.sqrt(1.0 - query.unknown_share)
    if query.speaker and item.doc.speakers and query.speaker not in item.doc.speakers:
        score *= E.OTHER_SPEAKER_FACTOR
    return (item.doc.key, min(1.0, score), coverage, best_sim, item.questions[best_at])


def as_tuple(match: Match) -> Scored:
    return (match.doc.key, match.score, match.coverage, match.similarity, match.best_question)


def plain_autocomplete(engine: RetrievalEngine, text: str, scope: int | None) -> list[str]:
    typed = [t.lower() for t in cased_tokens(text)]
    extra: list[str] = []
    for index in engine._visible(scope):
        extra.extend(index.vocab.with_prefix(typed[-1], 8 - len(extra)))
    _, matches = engine.search(" ".join([*typed, *extra]), scope, limit=E.AUTOCOMPLETE_DOCS)
    key = E.similarity_key(text)
    scored: dict[str, float] = {}
    for match in matches:
        if match.doc.kind == "decline":
            continue  # small talk is never offered as a question
        for question in match.doc.questions:
            sim = fuzz.WRatio(key, E.similarity_key(question)) / 100.0
            scored[question] = max(scored.get(question, 0.0), 0.5 * match.score + 0.5 * sim)
    return sorted(scored, key=scored.__getitem__, reverse=True)[:25]


@pytest.fixture(scope="module")
def crowded(kb: KnowledgeBase) -> Iterator[tuple[AnswerService, list[str]]]:
    """A server of 400 entries, with bitsets from 12 documents on so they are exercised."""
    patch = pytest.MonkeyPatch()
    patch.setattr(E, "DENSE_MIN", 12)
    patch.setattr(E, "DENSE_DROP", 6)
    patch.setattr(E, "TIE_POOL", 16)
    service = AnswerService(kb)
    items = synthetic(kb, 400, seed=11)
    for item in items:
        service.upsert_entry(GUILD, item.entry)
    questions = [*base_mix(5)[::3], *aimed_questions(items[::5], seed=5)]
    yield service, questions
    patch.undo()


@pytest.mark.parametrize("scope", [GUILD, None])
def test_candidates_and_rescoring_equal_a_full_scan(
    crowded: tuple[AnswerService, list[str]], scope: int | None
) -> None:
    service, questions = crowded
    engine = service.engine
    assert engine._scopes[GUILD].dense
    for question in questions:
        query = engine.analyze(question, scope)
        if query.total_weight <= 0:
            continue
        indexes = engine._visible(scope)
        idf = engine._idf_table(scope)
        fit = E._Fit(query, idf)
        ranked = engine._candidates(query, indexes, fit)
        want = sorted(plain_coverages(query, indexes).values(), reverse=True)[: E.RESCORE_LIMIT]
        assert [c for _, c in ranked] == pytest.approx(want, abs=1e-12), question
        plain = sorted(
            (plain_score(query, item, c / query.total_weight, idf) for item, c in ranked),
            key=lambda m: m[1],
            reverse=True,
        )
        for limit in (8, 25):
            pruned = engine._rescore(query, ranked, query.total_weight, fit, limit)
            pruned.sort(key=lambda m: m.score, reverse=True)
            assert [as_tuple(m) for m in pruned[:limit]] == plain[:limit], question


@pytest.mark.parametrize("scope", [GUILD, None])
def test_autocomplete_equals_scoring_every_phrasing(
    crowded: tuple[AnswerService, list[str]], scope: int | None
) -> None:
    service, questions = crowded
    for text in typing_prefixes(questions, seed=9, count=60)[1:]:
        if cased_tokens(text):
            assert service.autocomplete(text, scope) == plain_autocomplete(service.engine, text, scope), text


# ---- behaviour at scale ---------------------------------------------------------------------
def test_tied_server_entries_do_not_crowd_out_the_base(kb: KnowledgeBase) -> None:
    # Hundreds of entries share "when"/"meeting"/"Blinken" with these questions at equal coverage;
    # the cut-off used to keep whichever came first in a hash order, often dropping the base's answer.
    service = AnswerService(kb)
    for item in iter_entries(1000, seed=11, kb=kb):
        service.upsert_entry(GUILD, item.entry)
    for question in ["when did they meet", "where did they meet", "what is a 2+2 meeting", "blinkn", "g7"]:
        assert service.answer(question, GUILD).entry_id == service.answer(question).entry_id, question


SCRIPT = textwrap.dedent(
    """
    import json
    from benchmarks.synthetic import base_mix, iter_entries
    from bot.core.answers import AnswerService
    from bot.core.loader import load_knowledge
    from bot.settings import PROJECT_ROOT

    kb = load_knowledge(PROJECT_ROOT / "knowledge")
    service = AnswerService(kb)
    for item in iter_entries(300, seed=4, kb=kb):
        service.upsert_entry(7, item.entry)
    out = []
    for q in base_mix(2)[::4]:
        _, matches = service.engine.search(q, 7, limit=8)
        found = [(m.doc.key, m.score, m.best_question) for m in matches]
        out.append([q, found, service.autocomplete(q[:9], 7)])
    print(json.dumps(out))
    """
)


def test_results_do_not_depend_on_the_hash_seed() -> None:
    runs = []
    for seed in ("1", "2"):
        proc = subprocess.run(
            [sys.executable, "-c", SCRIPT],
            cwd=PROJECT_ROOT,
            env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        runs.append(json.loads(proc.stdout))
    assert runs[0] == runs[1]


def test_a_server_does_not_change_another_servers_results(kb: KnowledgeBase) -> None:
    service = AnswerService(kb)
    mine = synthetic(kb, 60, seed=2, prefix="mine")
    for item in mine:
        service.upsert_entry(GUILD, item.entry)
    questions = [*base_mix(3)[::7], *aimed_questions(mine[::6], seed=3)]
    before = [[as_tuple(m) for m in service.engine.search(q, GUILD, limit=8)[1]] for q in questions]
    for item in iter_entries(400, seed=5, kb=kb, prefix="theirs"):
        service.upsert_entry(OTHER, item.entry)
    after = [[as_tuple(m) for m in service.engine.search(q, GUILD, limit=8)[1]] for q in questions]
    assert before == after


def speaker_entry(entry_id: str, speaker: str) -> Entry:
    return Entry(
        id=entry_id,
        questions=["What did he say about the photo?"],
        answer="He spoke about the photo.",
        citations=[Citation(source="article", excerpt="Earlier, Nikkei reported", speaker=speaker)],
    )


def test_speaker_counts_follow_documents_and_scopes(kb: KnowledgeBase) -> None:
    service = AnswerService(kb)
    engine = service.engine
    assert engine.has_speaker_in("blinken", None) and not engine.has_speaker_in("hamada", None)
    service.upsert_entry(GUILD, speaker_entry("words", "Hamada"))
    assert engine.has_speaker_in("hamada", GUILD)
    # Another server's quotations never count: "What did Hamada say?" still abstains there.
    assert not engine.has_speaker_in("hamada", OTHER) and not engine.has_speaker_in("hamada", None)
    service.upsert_entry(GUILD, speaker_entry("words", "Putin"))  # an edit changes the speaker
    assert not engine.has_speaker_in("hamada", GUILD) and engine.has_speaker_in("putin", GUILD)
    service.remove_entry(GUILD, "words")
    assert not engine.has_speaker_in("putin", GUILD)
    service.upsert_entry(OTHER, speaker_entry("words", "Hamada"))
    assert engine.has_speaker_in("hamada", OTHER)
    service.remove_entry(OTHER, "words")
    assert not engine.has_speaker_in("hamada", OTHER)
    assert engine.has_speaker_in("blinken", OTHER)  # the base is visible everywhere


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


# ---- the caches in text normalisation and entity recognition -----------------------------------
def strip_accents_by_decomposition(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@given(st.text(max_size=80))
def test_strip_accents_shortcut_for_ascii_changes_nothing(text: str) -> None:
    assert strip_accents(text) == strip_accents_by_decomposition(text)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=14))
def test_stem_memo_gives_the_stemmers_answer(word: str) -> None:
    from bot.core.text import _IRREGULAR, _STEMMER

    want = _IRREGULAR.get(word) or str(_STEMMER.stemWord(word))
    assert stem(word) == want
    assert stem(word) == want  # from the memo


LEXICON_ENTITIES = [
    Entity(id="blinken", name="Antony J. Blinken", kind="person", aliases=["Blinken", "Secretary of State"]),
    Entity(id="hamada", name="Hamada Yasukazu", kind="person", aliases=["Hamada", "Yasukazu Hamada"]),
    Entity(id="united-states", name="United States", kind="country", aliases=["US", "America"]),
]
NAMEISH = st.lists(
    st.sampled_from(
        ["blinkn", "Blinken", "secretary", "of", "state", "hamata", "US", "us", "who", "said", "x"]
    ),
    max_size=8,
).map(" ".join)


@given(NAMEISH, st.sets(st.sampled_from(["state", "hamata", "blinkn"])))
def test_memoised_recognition_equals_a_fresh_lexicon(text: str, vocabulary: set[str]) -> None:
    warm = EntityLexicon(LEXICON_ENTITIES)
    warm.recognize(text)
    warm.recognize(text, vocabulary)
    assert warm.recognize(text) == EntityLexicon(LEXICON_ENTITIES).recognize(text)
    assert warm.recognize(text, vocabulary) == EntityLexicon(LEXICON_ENTITIES).recognize(text, vocabulary)


def test_adding_an_alias_clears_the_recognition_memos() -> None:
    lexicon = EntityLexicon(LEXICON_ENTITIES)
    assert lexicon.recognize("Kishida spoke") == []
    lexicon.add(Entity(id="kishida", name="Fumio Kishida", kind="person", aliases=["Kishida"]))
    assert [m.entity_id for m in lexicon.recognize("Kishida spoke")] == ["kishida"]
