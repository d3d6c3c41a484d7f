"""The answerability checks, on the curated knowledge base: does an entry state what was asked?"""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.answerability import Asked, IdentityClaim, contradicts, identity_claim, judge, premise_of
from bot.core.answers import AnswerService
from bot.core.documents import Document
from bot.core.understanding.focus import focus_of


def _doc(service: AnswerService, key: str) -> Document:
    doc = service.document(None, key)
    assert doc is not None
    return doc


def _asked(service: AnswerService, question: str) -> Asked:
    query = service.engine.analyze(question)
    return Asked(question, focus_of(question), query.entities | frozenset(query.unknown_entities))


def test_an_entry_that_does_not_state_the_kind_of_fact_asked_for_does_not_answer(
    service: AnswerService,
) -> None:
    support = _doc(service, "ukraine-support")
    verdict = judge(_asked(service, "How much money did Japan pledge to Ukraine?"), support, service.lexicon)
    assert not verdict.answers
    assert verdict.reason == "The article doesn't give that number or amount."
    assert judge(_asked(service, "Do the US and Japan support Ukraine?"), support, service.lexicon).answers


def test_a_rough_fact_does_not_answer_a_question_for_the_exact_one(service: AnswerService) -> None:
    when_where = _doc(service, "contact-group-when-where")
    assert judge(_asked(service, "When is the Contact Group meeting?"), when_where, service.lexicon).answers
    exact = judge(
        _asked(service, "What exact date is the Contact Group meeting?"), when_where, service.lexicon
    )
    assert not exact.answers


def test_another_occasion_is_not_this_one(service: AnswerService) -> None:
    location = _doc(service, "meeting-location")
    assert judge(_asked(service, "Where was the 2+2 held?"), location, service.lexicon).answers
    assert not judge(_asked(service, "Where was the previous 2+2 held?"), location, service.lexicon).answers
    upcoming = _doc(service, "upcoming-meetings")
    # "What's next after the 2+2?" is not "the next 2+2".
    assert not judge(_asked(service, "When is the next 2+2 meeting?"), upcoming, service.lexicon).answers


def test_a_place_already_named_is_not_an_answer_to_where(service: AnswerService) -> None:
    when_where = _doc(service, "contact-group-when-where")
    asked = _asked(service, "Which city in Germany will host the Contact Group?")
    assert not judge(asked, when_where, service.lexicon).answers


def test_whoever_is_quoted_answers_who_said_it(service: AnswerService) -> None:
    doc = _doc(service, "austin-as-long-as-it-takes")
    assert judge(_asked(service, "Who said 'as long as it takes'?"), doc, service.lexicon).answers
    assert not judge(_asked(service, "Who chairs the Contact Group?"), doc, service.lexicon).answers


def _premised(service: AnswerService, question: str) -> Asked:
    premise = premise_of(question, service.lexicon)
    assert premise is not None
    asked = _asked(service, question)
    return Asked(question, replace(asked.focus, facet=premise.facet), asked.named, premise=premise)


def test_false_premises_are_recognised(service: AnswerService) -> None:
    location = _doc(service, "meeting-location")
    tokyo = _premised(service, "Was the meeting held in Tokyo?")
    assert tokyo.premise is not None and tokyo.premise.facet == "place"
    assert "Tokyo" not in tokyo.premise.rest and tokyo.premise.entity_id == "japan"
    assert contradicts(tokyo, location, service.lexicon)
    assert not contradicts(
        _premised(service, "Was the meeting held in Washington?"), location, service.lexicon
    )
    # A place no entity names is a premise too.
    osaka = _premised(service, "Is the G7 summit going to be in Osaka?")
    assert osaka.premise is not None and osaka.premise.value == "Osaka" and osaka.premise.entity_id is None
    assert contradicts(osaka, _doc(service, "hiroshima-summit"), service.lexicon)


def test_a_day_premise(service: AnswerService) -> None:
    friday = _premised(service, "Was the meeting on a Friday?")
    assert friday.premise is not None and friday.premise.facet == "date"
    assert contradicts(friday, _doc(service, "meeting-date"), service.lexicon)
    assert not contradicts(
        _premised(service, "Was the meeting on a Wednesday?"), _doc(service, "meeting-date"), service.lexicon
    )


def test_a_topic_is_no_premise(service: AnswerService) -> None:
    assert premise_of("Did they discuss China?", service.lexicon) is None
    assert premise_of("Did Blinken say anything about Asia?", service.lexicon) is None


@pytest.mark.parametrize(
    ("question", "claim"),
    [
        ("Is Hayashi the defense minister?", ("hayashi", "hamada")),
        ("Was Blinken the Secretary of Defense?", ("blinken", "austin")),
        ("did Austin is the Secretary of State?", ("austin", "blinken")),
        ("Was the US top diplomat Austin?", ("blinken", "austin")),
    ],
)
def test_two_people_said_to_be_one_is_an_identity_claim(
    service: AnswerService, question: str, claim: tuple[str, str]
) -> None:
    assert identity_claim(question, service.lexicon) == IdentityClaim(*claim)


@pytest.mark.parametrize(
    "question",
    [
        "Is Austin the Secretary of Defense?",  # one person, named twice: no claim to correct
        "Did Blinken meet the Secretary of Defense?",  # a meeting, not an identity
        "Was Blinken with the Secretary of Defense?",
        "Was Blinken sitting next to the Secretary of Defense?",
    ],
)
def test_other_questions_about_two_people_claim_no_identity(service: AnswerService, question: str) -> None:
    assert identity_claim(question, service.lexicon) is None


def test_a_count_premise(service: AnswerService) -> None:
    premise = premise_of("Were there about 100 ministers at the meeting?", service.lexicon)
    assert premise is not None and (premise.facet, premise.value) == ("number", "100")
    assert premise_of("Did the two sides condemn Russia?", service.lexicon) is None
    assert premise_of("Was the 2+2 held in Washington on January 11?", service.lexicon) is not None
    year = premise_of("Was the 2+2 held in 2022?", service.lexicon)
    assert year is not None and (year.facet, year.value) == ("date", "2022")


#: Words that make premises and identity claims, for questions put together at random.
PREMISE_WORDS = (
    "Was Is Hayashi the defense minister five 100 in 2022 Tokyo on June about ministers 2+2 two "
    "Secretary of State ? ,"
).split()


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=200)
@given(st.lists(st.sampled_from(PREMISE_WORDS), max_size=12))
def test_premises_and_claims_read_any_question(service: AnswerService, words: list[str]) -> None:
    question = " ".join(words)
    premise = premise_of(question, service.lexicon)
    if premise is not None:
        assert premise.value.lower() in question.lower()
    claim = identity_claim(question, service.lexicon)
    assert claim is None or claim.person != claim.claimed
