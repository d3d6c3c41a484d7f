"""What a question refers to beyond its own words: a person's pronoun, the occasion of a later
question, what a choice is between."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.answers import AnswerService
from bot.core.references import (
    counterpart_of,
    facet_of_choice,
    occasion_before,
    with_counterpart_named,
    with_person_named,
)
from bot.core.understanding import Part
from bot.core.understanding.focus import choice_of


def test_a_pronoun_stands_for_the_last_person_named_before_it(service: AnswerService) -> None:
    part = Part("What did he say about Japan?", before="Who is the U.S. Secretary of State?")
    assert (
        with_person_named(part, service.lexicon).question == "What did US Secretary of State say about Japan?"
    )
    his = Part("What is his job?", before="Hayashi met Austin.")
    assert with_person_named(his, service.lexicon).question == "What is Austin's job?"
    # A question that names its person, or has nobody before it, is left as it is.
    named = Part("What did he tell Blinken?", before="Austin spoke.")
    assert with_person_named(named, service.lexicon) == named
    alone = Part("What did he say?")
    assert with_person_named(alone, service.lexicon) == alone


def test_a_later_question_that_names_nothing_is_about_the_occasion_before(service: AnswerService) -> None:
    later = Part("how many ministers will attend?", before="Where is the Contact Group meeting next?")
    assert occasion_before(later, service.lexicon) == "Contact Group meeting"
    # The 2+2 is what every question is about already; a question that names something stands.
    assert occasion_before(Part("where was it held?", before="Who went to the 2+2?"), service.lexicon) is None
    assert occasion_before(Part("who is Blinken?", before="the Contact Group"), service.lexicon) is None


def test_what_a_choice_is_between(service: AnswerService) -> None:
    cases = {
        "Was the meeting in DC or Tokyo?": "place",
        "was it on wednesday or thursday": "date",
        "Was it the 2022 or the 2023 one?": "date",
        "Was it Blinken or Austin who said it?": "person",
        "Did they condemn Russia or China?": None,  # not where: what
    }
    for question, facet in cases.items():
        choice = choice_of(question)
        assert choice is not None, question
        assert facet_of_choice(choice, service.lexicon) == facet, question


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=150)
@given(st.text(max_size=120), st.text(max_size=120))
def test_references_read_any_text(service: AnswerService, question: str, before: str) -> None:
    part = Part(question or "?", before=before)
    resolved = with_person_named(part, service.lexicon)
    assert resolved.before == part.before
    occasion = occasion_before(part, service.lexicon)
    # Only a question that names nothing, after something was said, borrows an occasion.
    assert occasion is None or (before.strip() and not service.lexicon.recognize(part.question))
    choice = choice_of(question)
    if choice is not None:
        assert facet_of_choice(choice, service.lexicon) in {None, "place", "date", "person"}
    # A counterpart is named only where the word "counterpart" was.
    named = with_counterpart_named(part, service.lexicon)
    assert named == part or "counterpart" in question.lower()


def test_a_counterpart_holds_the_same_portfolio_on_the_other_side(service: AnswerService) -> None:
    lexicon = service.lexicon
    assert [counterpart_of(p, lexicon) for p in ("austin", "blinken", "hayashi", "hamada")] == [
        "hamada",
        "hayashi",
        "blinken",
        "austin",
    ]
    assert counterpart_of("zelensky", lexicon) is None  # no portfolio of a minister
    cases = {
        "Who is Austin's Japanese counterpart?": "Who is Hamada Yasukazu?",
        "who is the counterpart of Hayashi?": "who is Antony J. Blinken?",
        "What did Blinken's counterpart say?": "What did Hayashi Yoshimasa say?",
        "Who were the counterparts?": "Who were the counterparts?",
    }
    for question, read in cases.items():
        assert with_counterpart_named(Part(question), lexicon).question == read, question
