"""The answerability checks, on the curated knowledge base: does an entry state what was asked?"""

from __future__ import annotations

from bot.core.answerability import Asked, contradicts, judge, premise_of
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


def test_false_premises_are_recognised(service: AnswerService) -> None:
    location = _doc(service, "meeting-location")
    premise = premise_of("Was the meeting held in Tokyo?", service.lexicon)
    assert premise is not None and premise.facet == "place" and "Tokyo" not in premise.rest
    tokyo = _asked(service, "Was the meeting held in Tokyo?")
    tokyo = Asked(tokyo.text, focus_of(tokyo.text).__class__(facet="place", yes_no=True), tokyo.named)
    assert contradicts(tokyo, location, service.lexicon)
    washington = _asked(service, "Was the meeting held in Washington?")
    washington = Asked(washington.text, tokyo.focus, washington.named)
    assert not contradicts(washington, location, service.lexicon)


def test_a_day_premise(service: AnswerService) -> None:
    premise = premise_of("Was the meeting on a Friday?", service.lexicon)
    assert premise is not None and premise.facet == "date"
    date = _doc(service, "meeting-date")
    asked = Asked(
        "Was the meeting on a Friday?",
        focus_of("Was the meeting on a Friday?").__class__(facet="date", yes_no=True),
        frozenset(),
    )
    assert contradicts(asked, date, service.lexicon)
