"""The engine end to end: what it ranks first, per scope, and that its shortcuts change nothing.

The engine skips work (common terms ranked with bitsets, re-scoring stopped once nothing can
place, autocomplete's rapidfuzz cut-off); each shortcut is held against the plain computation
(`RetrievalEngine.rank(..., exhaustive=True)`, and a plain autocomplete below) on a crowded
server, deterministically. Timing is the benchmark's job (`python -m benchmarks`), not a test's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from benchmarks.synthetic import aimed_questions, base_mix, iter_entries, typing_prefixes
from bot.core.answers import AnswerService
from bot.core.fallback import ANSWER_TEXT
from bot.core.loader import KnowledgeBase
from bot.core.models import Citation, Entry, Scope
from bot.core.retrieval import Match, QueryAnalysis, RetrievalEngine, ScopeIndex, index, similarity_key
from bot.core.retrieval import search as search_module
from bot.core.retrieval.search import AUTOCOMPLETE_DOCS, AUTOCOMPLETE_WORDS, RESCORE_LIMIT
from bot.core.text import cased_tokens
from bot.settings import PROJECT_ROOT
from tests.core.retrieval.helpers import synthetic, visible

GUILD_A, GUILD_B = 111, 222
GUILD, OTHER = 501, 502


def top_key(service: AnswerService, question: str, scope: int | None = None) -> str | None:
    _, matches = service.engine.search(question, scope)
    return matches[0].doc.key if matches else None


# ---- what comes first ------------------------------------------------------------------------
def test_ranking_prefers_the_entry_that_answers(service: AnswerService) -> None:
    assert top_key(service, "Who attended the meeting?") == "attendees"
    assert top_key(service, "When was the 2+2 held?") == "meeting-date"
    assert top_key(service, "where did it take place") == "meeting-location"


def test_question_words_steer_between_similar_entries(service: AnswerService) -> None:
    assert top_key(service, "when is the contact group meeting") == "contact-group-when-where"
    assert (
        top_key(service, "how many ministers will attend the contact group") == "contact-group-participants"
    )


def test_unknown_people_and_topics_abstain(service: AnswerService) -> None:
    scholz = service.answer("What did Olaf Scholz say at the 2+2?")
    assert not scholz.answered
    assert "Olaf Scholz" in scholz.answer
    assert not service.answer("What is the best pizza topping?").answered
    assert not service.answer("zzzz xxxx").answered


def test_asking_what_an_unquoted_person_said_does_not_borrow_someone_elses_words(
    service: AnswerService,
) -> None:
    answer = service.answer("What did Putin say about the meeting?")
    assert not answer.answered
    assert "does not quote" in answer.answer


def test_speaker_questions_draw_on_the_quote_store(service: AnswerService) -> None:
    answer = service.answer("what did austin say about how long they will support ukraine")
    assert answer.answered
    assert any("as long as it takes" in c.excerpt and c.speaker for c in answer.citations)


def test_abstention_suggests_close_questions(service: AnswerService) -> None:
    answer = service.answer("How many tanks did Germany send to Ukraine?")
    assert not answer.answered
    assert len(answer.suggestions) == len(answer.suggestion_keys) == service.max_suggestions
    assert any("Germany" in s for s in answer.suggestions)


def test_small_talk_is_declined_with_a_friendly_reply(service: AnswerService) -> None:
    for question in ("What's your name?", "hello", "thank you"):
        answer = service.answer(question)
        assert not answer.answered and not answer.citations
        assert "2+2" in answer.answer
        assert answer.suggestions
    # A real question that shares words with small talk is still answered.
    assert service.answer("How are you sure Blinken attended?").entry_id == "attendees"
    assert all(not q.startswith("decline:") for q in service.autocomplete("hello"))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gets_a_well_formed_answer(service: AnswerService, text: str) -> None:
    answer = service.answer(text)
    assert 0.0 <= answer.confidence <= 1.0
    if answer.answered:
        # An entry's answer has its id; an article sentence (the fallback) has none.
        assert answer.citations and (answer.entry_id or answer.answer == ANSWER_TEXT)
    else:
        assert not answer.citations and answer.entry_id is None


def test_autocomplete_completes_the_word_being_typed(service: AnswerService) -> None:
    suggestions = service.autocomplete("where is the hiro")
    assert suggestions and len(suggestions) <= 25
    assert any("hiroshima" in s.lower() for s in suggestions[:5])
    assert 1 <= len(service.autocomplete("")) <= 25
    assert len(service.autocomplete("who", limit=3)) <= 3


# ---- scopes ------------------------------------------------------------------------------------
def _guild_entry() -> Entry:
    return Entry(
        id="server-rules",
        questions=["What are the photo positions, left to right?"],
        answer="Left to right: Hamada, Hayashi, Blinken, Austin.",
        citations=[
            Citation(source="article", excerpt="Defense Minister Yasukazu Hamada (left)", location="¶14")
        ],
    )


def test_server_entries_answer_only_in_their_server(kb: KnowledgeBase) -> None:
    service = AnswerService(kb)
    service.upsert_entry(GUILD_A, _guild_entry())
    question = "What are the photo positions, left to right?"
    assert top_key(service, question, GUILD_A) == "server-rules"
    assert top_key(service, question, GUILD_B) != "server-rules"
    assert top_key(service, question, None) != "server-rules"
    # The base still answers inside a server.
    assert top_key(service, "who attended the meeting", GUILD_A) == "attendees"
    service.remove_entry(GUILD_A, "server-rules")
    assert top_key(service, question, GUILD_A) != "server-rules"


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


def as_tuple(match: Match) -> tuple[str, float, float, float, str]:
    return (match.doc.key, match.score, match.coverage, match.similarity, match.best_question)


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


# ---- the shortcuts change nothing ------------------------------------------------------------
def plain_coverages(query: QueryAnalysis, indexes: list[ScopeIndex]) -> dict[str, float]:
    """Every document's coverage weight, summed over every posting."""
    out: dict[str, float] = {}
    for scope_index in indexes:
        for term, weight in query.terms.items():
            for item, f in scope_index.postings.get(term, {}).items():
                out[item.doc.key] = out.get(item.doc.key, 0.0) + weight * f
    return out


def plain_autocomplete(engine: RetrievalEngine, text: str, scope: Scope) -> list[str]:
    """Autocomplete as one plain pass: every phrasing of the best documents, ranked by the
    engine's own formula (`Formula.suggestion`), over an exhaustive search."""
    typed = [t.lower() for t in cased_tokens(text)]
    extra: list[str] = []
    for scope_index in visible(engine, scope):
        extra.extend(scope_index.vocab.with_prefix(typed[-1], AUTOCOMPLETE_WORDS - len(extra)))
    ranking = engine.rank(" ".join([*typed, *extra]), scope, AUTOCOMPLETE_DOCS, exhaustive=True)
    key = similarity_key(text)
    scored: dict[str, float] = {}
    for match in ranking.matches:
        if match.doc.kind == "decline":
            continue  # small talk is never offered as a question
        for question in match.doc.questions:
            sim = fuzz.WRatio(key, similarity_key(question)) / 100.0
            scored[question] = max(scored.get(question, 0.0), engine.formula.suggestion(match.score, sim))
    return sorted(scored, key=scored.__getitem__, reverse=True)[:25]


@pytest.fixture(scope="module")
def crowded(kb: KnowledgeBase) -> Iterator[tuple[AnswerService, list[str]]]:
    """A server of 400 entries, with bitsets from 12 documents on so they are exercised."""
    patch = pytest.MonkeyPatch()
    patch.setattr(index, "DENSE_MIN", 12)
    patch.setattr(index, "DENSE_DROP", 6)
    patch.setattr(search_module, "TIE_POOL", 16)
    service = AnswerService(kb)
    items = synthetic(kb, 400, seed=11)
    for item in items:
        service.upsert_entry(GUILD, item.entry)
    questions = [*base_mix(5)[::3], *aimed_questions(items[::5], seed=5)]
    yield service, questions
    patch.undo()


@pytest.mark.parametrize("scope", [GUILD, None])
def test_ranking_with_shortcuts_equals_an_exhaustive_ranking(
    crowded: tuple[AnswerService, list[str]], scope: int | None
) -> None:
    service, questions = crowded
    engine = service.engine
    assert engine.index_of(GUILD).dense
    checked = 0
    for question in questions:
        for limit in (8, 25):
            fast = engine.rank(question, scope, limit)
            full = engine.rank(question, scope, limit, exhaustive=True)
            assert fast.query == full.query
            if fast.query.total_weight <= 0:
                assert not fast.candidates and not fast.matches
                continue
            checked += 1
            want = sorted(plain_coverages(fast.query, visible(engine, scope)).values(), reverse=True)
            assert [c for _, c in fast.candidates] == pytest.approx(want[:RESCORE_LIMIT], abs=1e-12), question
            assert [d.key for d, _ in fast.candidates] == [d.key for d, _ in full.candidates], question
            assert [as_tuple(m) for m in fast.matches] == [as_tuple(m) for m in full.matches], question
            assert len(fast.matches) == min(limit, len(fast.candidates))
            assert (fast.query, fast.matches) == engine.search(question, scope, limit)
    assert checked > len(questions)


@pytest.mark.parametrize("scope", [GUILD, None])
def test_autocomplete_equals_scoring_every_phrasing(
    crowded: tuple[AnswerService, list[str]], scope: int | None
) -> None:
    service, questions = crowded
    for text in typing_prefixes(questions, seed=9, count=60)[1:]:
        if cased_tokens(text):
            assert service.engine.autocomplete(text, scope) == plain_autocomplete(
                service.engine, text, scope
            ), text


# ---- behaviour at scale -------------------------------------------------------------------------
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
