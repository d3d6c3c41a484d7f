"""The scoring formula and the bounds that let re-scoring skip work: every bound is sound."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.answers import AnswerService
from bot.core.retrieval import DEFAULT_WEIGHTS, Formula, IdfTable, PhrasingFit

FORMULA = Formula(DEFAULT_WEIGHTS)
UNIT = st.floats(min_value=0.0, max_value=1.0)
FLAG = st.booleans()
#: sqrt(1 - unknown share): zero, or at least about 1e-8 (never a subnormal float).
UNKNOWN_FACTOR = st.one_of(st.just(0.0), st.floats(min_value=1e-8, max_value=1.0))


def test_a_perfect_match_scores_one_and_penalties_only_lower_it() -> None:
    assert FORMULA.score(1.0, 1.0, False, 1.0, False) == pytest.approx(1.0)
    assert FORMULA.fit("who attended", "who attended", 1.0) == (pytest.approx(1.0), pytest.approx(1.0))
    plain = FORMULA.score(0.8, 0.7, False, 1.0, False)
    assert FORMULA.score(0.8, 0.7, True, 1.0, False) < plain
    assert FORMULA.score(0.8, 0.7, False, 1.0, True) < plain
    assert FORMULA.score(0.8, 0.7, False, 0.5, False) < plain


@given(UNIT, UNIT, UNIT, UNIT)
def test_score_rises_with_coverage_and_fit(c1: float, c2: float, f1: float, f2: float) -> None:
    low_c, high_c = sorted((c1, c2))
    low_f, high_f = sorted((f1, f2))
    assert FORMULA.score(low_c, low_f, False, 1.0, False) <= FORMULA.score(high_c, high_f, False, 1.0, False)


@given(UNIT, UNIT, FLAG, FLAG, UNKNOWN_FACTOR)
def test_fit_needed_never_asks_for_more_than_the_fit_that_scored(
    coverage: float, fit: float, entity_miss: bool, other_speaker: bool, unknown_factor: float
) -> None:
    """Re-scoring drops a document whose phrasings cannot reach the fit needed: that is exact only
    if a fit that reaches a score is never below the fit needed for it."""
    threshold = FORMULA.score(coverage, fit, entity_miss, unknown_factor, other_speaker)
    needed = FORMULA.fit_needed(threshold, coverage, entity_miss, other_speaker, unknown_factor)
    assert needed <= fit
    if FORMULA.factor(entity_miss, other_speaker, unknown_factor) > 1e-3:
        assert needed == pytest.approx(fit, abs=1e-6)  # and it is tight


@given(UNIT, UNIT)
def test_suggestion_cut_off_keeps_every_phrasing_that_reaches_the_floor(
    match_score: float, sim: float
) -> None:
    floor = FORMULA.suggestion(match_score, sim)
    assert FORMULA.suggestion_cutoff(floor, match_score) <= sim * 100.0
    assert FORMULA.suggestion(match_score, 1.0) >= floor


@given(st.text(alphabet="abc ", max_size=12), st.text(alphabet="abc ", max_size=12), UNIT)
def test_fit_blends_similarity_and_precision_by_the_weights(a: str, b: str, precision: float) -> None:
    other = Formula(dataclasses.replace(DEFAULT_WEIGHTS, phrase_sim_weight=1.0))
    value, sim = other.fit(a, b, precision)
    assert 0.0 <= sim <= 1.0 and value == sim  # all similarity, no precision
    value, same_sim = FORMULA.fit(a, b, precision)
    assert same_sim == sim and value <= max(sim, precision) + 1e-12


QUESTIONS = [
    "who attended the meeting",
    "when was the 2+2 held",
    "what did blinken say about putin",
    "where did it take place",
    "nuclear",
    "how many ministers will attend the contact group",
    "zzzz budget",
]


def plain_precision(query_idf: dict[str, float], terms: list[str], total: float) -> float:
    """Precision as written once: the question's share of the phrasing's IDF, summed over the
    phrasing's terms in sorted order."""
    return sum(query_idf[t] for t in terms if t in query_idf) / total if total else 0.0


@pytest.mark.parametrize("question", QUESTIONS)
def test_the_best_bound_is_the_highest_phrasing_bound_to_the_last_bit(
    service: AnswerService, question: str
) -> None:
    """Re-scoring orders and skips documents by `figures` without computing each phrasing's
    bound: it must be exactly the highest of them, and precision exactly the plain sum."""
    engine = service.engine
    base = engine.index_of(None)
    query = engine.analyze(question)
    table = IdfTable([base])
    fit = PhrasingFit(query, table, engine.formula)
    query_idf = {t: table.get(t, 1.0) for t in query.terms}
    for item in base.docs.values():
        best, others, shared = fit.figures(item)
        phrasings = fit.phrasings(item)
        assert best == phrasings[0][0], item.doc.key
        assert others >= max((b for b, at, _ in phrasings if at not in shared), default=-1.0)
        for at in range(len(item.keys)):
            terms = sorted(t for t, mask in item.term_phrasings.items() if mask >> at & 1)
            total = sum(table.get(t, 1.0) for t in terms)
            assert table.totals(item)[at] == total
            if at in shared:
                assert shared[at] == plain_precision(query_idf, terms, total), (item.doc.key, at)
            else:
                assert not set(terms) & set(query.terms)


@pytest.mark.parametrize("question", QUESTIONS)
def test_phrasing_bounds_are_never_below_the_fit(service: AnswerService, question: str) -> None:
    """Re-scoring skips a phrasing whose bound is beaten: every bound must hold its real fit."""
    engine = service.engine
    base = engine.index_of(None)
    query = engine.analyze(question)
    fit = PhrasingFit(query, IdfTable([base]), engine.formula)
    for item in base.docs.values():
        phrasings = fit.phrasings(item)
        assert sorted(at for _, at, _ in phrasings) == list(range(len(item.keys)))
        assert [bound for bound, _, _ in phrasings] == sorted((b for b, _, _ in phrasings), reverse=True)
        for bound, at, precision in phrasings:
            value, _ = engine.formula.fit(query.key, item.keys[at], precision)
            assert value <= bound, (item.doc.key, item.keys[at])
            assert 0.0 <= precision <= 1.0 + 1e-12
