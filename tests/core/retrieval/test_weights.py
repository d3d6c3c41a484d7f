"""One frozen object holds every quality knob, and an engine answers with the one it is given."""

from __future__ import annotations

import dataclasses

import pytest

from bot.core.loader import KnowledgeBase
from bot.core.retrieval import DEFAULT_WEIGHTS, Weights
from bot.core.text import stem
from tests.core.retrieval.helpers import build_engine


def test_default_weights_are_frozen_and_say_where_they_came_from() -> None:
    assert "fitted" in DEFAULT_WEIGHTS.provenance and "train.jsonl" in DEFAULT_WEIGHTS.provenance
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULT_WEIGHTS.coverage_weight = 0.9  # type: ignore[misc]
    before = DEFAULT_WEIGHTS.coverage_weight
    fitted = dataclasses.replace(DEFAULT_WEIGHTS, coverage_weight=0.6, provenance="fitted on a test set")
    assert fitted.coverage_weight == 0.6 and DEFAULT_WEIGHTS.coverage_weight == before
    assert fitted.provenance == "fitted on a test set"


def test_derived_values_follow_the_fields() -> None:
    weights = dataclasses.replace(DEFAULT_WEIGHTS, coverage_weight=0.25, phrase_sim_weight=0.75)
    assert weights.fit_weight == 0.75
    assert weights.precision_weight == 0.25
    assert weights.ratio_share == 1.0 - weights.set_ratio_share
    assert weights.max_field == max(weights.phrasing_field, weights.body_field)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("coverage_weight", 1.0),
        ("phrase_sim_weight", -0.1),
        ("set_ratio_share", 1.5),
        ("entity_miss_factor", 2.0),
        ("body_field", 0.0),
        ("entity_boost", -1.0),
        ("typo_cutoff", 101.0),
        ("typo_min_chars", 0),
        ("autocomplete_score_share", 1.0),
    ],
)
def test_weights_outside_their_range_are_refused_by_name(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        dataclasses.replace(DEFAULT_WEIGHTS, **{field: value})


def test_every_field_but_provenance_is_a_number() -> None:
    for field in dataclasses.fields(Weights):
        value = getattr(DEFAULT_WEIGHTS, field.name)
        assert isinstance(value, str if field.name == "provenance" else (int, float)), field.name


def test_an_engine_answers_with_the_weights_it_is_given(kb: KnowledgeBase) -> None:
    default = build_engine(kb)
    strict = build_engine(
        kb,
        dataclasses.replace(
            DEFAULT_WEIGHTS,
            typo_cutoff=100.0,
            dictionary_typo_cutoff=100.0,
            question_word_scale=DEFAULT_WEIGHTS.question_word_scale / 2,
        ),
    )
    question = "when was the meetng"
    assert default.analyze(question).corrections == {"meetng": "meeting"}
    # Only an exact word passes a cut-off of 100: the typo stays unknown.
    assert strict.analyze(question).corrections == {}
    assert strict.analyze(question).oov == ("meetng",)
    when = stem("when")
    assert default.analyze(question).terms[when] == pytest.approx(2 * strict.analyze(question).terms[when])
