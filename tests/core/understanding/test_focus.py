"""What kind of fact a question asks for."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.understanding.focus import FACETS, MISSING, Choice, choice_of, focus_of, stated_facets


@pytest.mark.parametrize(
    ("question", "facet"),
    [
        ("How much money did Japan pledge?", "number"),
        ("What exact day in May is the summit?", "date"),
        ("What are the dates of the summit?", "date"),
        ("Which Russian officials were named?", "person"),
        ("Austin say they support Ukraine until when?", "duration"),
        ("They met what for?", "reason"),
        ("For what thing ministers want Russia be accountable?", None),
        ("For what the ministers want Russia to be held accountable?", None),
        ("Russia must be what for the atrocities?", None),
        ("how many ppl were there", "number"),
        ("How old is Lloyd Austin?", "age"),
        ("How long did the meeting last?", "duration"),
        ("Where was the 2+2 held?", "place"),
        ("In which city did they meet?", "place"),
        ("When did the ministers meet?", "date"),
        ("What day was the meeting?", "date"),
        ("Who attended?", "person"),
        ("Which news outlet reported the invitation?", "person"),
        ("Why does the war matter for Asia?", "reason"),
        ("How did China react to the statement?", "reaction"),
        ("What did the ministers agree on?", "outcome"),
        ("What is the NATO program called?", "name"),
        ("What is Blinken's job?", "role"),
        ("what does Austin do?", "role"),
        ("Which Latin expression does the article use?", "quote"),
        # "the ones he named" are the ones he mentioned: no name is asked for
        ("Can you give me the principles he named?", None),
        # what someone did is an act, not a job
        ("what did russia do with nukes", None),
        ("What did Blinken say about Putin?", None),
        ("What was condemned?", None),
        # The opening question word decides, not a "when" later in the sentence.
        ("What did Blinken say about Asia when the reporter asked?", None),
    ],
)
def test_focus(question: str, facet: str | None) -> None:
    assert focus_of(question).facet == facet


def test_yes_no_questions() -> None:
    assert focus_of("Was the meeting held in Tokyo?").yes_no
    assert not focus_of("Could you list the ministers?").yes_no  # a request
    # A yes/no question asks about a topic unless it asks for an outcome or an amount.
    assert focus_of("Did they say anything about NATO?").facet is None
    assert focus_of("Did Zelensky accept the invitation?").facet == "outcome"


def test_what_thing_exactly_is_specific() -> None:
    assert focus_of("What sanctions exactly are the G7 partners planning?").specific
    assert focus_of("What does the NATO program actually involve?").specific
    assert not focus_of("What is the NATO program?").specific


def test_a_position_in_the_photo_is_no_job() -> None:
    assert focus_of("Which position does Blinken occupy in the photo?").facet != "role"
    assert focus_of("Which position does Blinken hold?").facet == "role"


def test_a_time_span_is_no_occasion() -> None:
    assert focus_of("What meeting did Austin say would happen the following week?").qualifiers == set()
    assert focus_of("When is the next 2+2?").qualifiers == {"next"}


def test_first_qualifies_an_occasion_not_a_report() -> None:
    assert focus_of("Where was the first 2+2 held?").qualifiers == {"first"}
    assert focus_of("Which newspaper said first that Japan would invite Zelensky?").qualifiers == set()


def test_a_specific_category_is_not_a_finer_detail() -> None:
    assert not focus_of("What specific area of Ukraine's needs did they discuss?").specific
    assert focus_of("Which specific weapons will Japan send?").specific


def test_specific_and_qualified_questions() -> None:
    assert focus_of("What exact date is the Contact Group meeting?").specific
    assert focus_of("Which German air base will host it?").specific
    assert focus_of("Where was the previous 2+2 held?").qualifiers == {"previous"}
    # "last" in "how long did it last" is a verb, not "the last meeting".
    assert focus_of("How long did the meeting last?").qualifiers == frozenset()
    assert "later" in focus_of("Did Zelensky end up going?").qualifiers


def test_every_facet_has_a_decline_reason() -> None:
    assert set(MISSING) == set(FACETS)


def test_stated_facets_reads_a_passage() -> None:
    stated = stated_facets('Austin said the meeting is "next week in Germany".', people=True, places=True)
    assert {"date", "quote", "person", "place"} <= stated
    assert "age" not in stated


@given(st.text(max_size=300))
def test_focus_of_any_text(text: str) -> None:
    focus = focus_of(text)
    assert focus.facet is None or focus.facet in FACETS


def test_exactly_after_what_is_asked_still_asks_for_the_exact_fact() -> None:
    assert focus_of("On what date exactly did Japan take over the presidency?").specific
    assert focus_of("What exact day in May is the summit?").specific


def test_the_other_one_of_a_list_is_not_someone_else() -> None:
    assert focus_of("Who else attended?").others
    assert focus_of("Besides Zelensky, which other leaders are invited?").others
    assert not focus_of("Besides the nuclear rhetoric, what was the other one?").others
    assert not focus_of("Apart from Hayashi, who were the others?").others


@pytest.mark.parametrize(
    ("question", "choice"),
    [
        ("Was the meeting in DC or Tokyo?", ("DC", "Tokyo", "Was the meeting?", True)),
        ("was it on wednesday or thursday", ("wednesday", "thursday", "was it on", False)),
        ("Did they condemn Russia or China?", ("Russia", "China", "Did they condemn?", False)),
        # a choice of days, written in full or short
        ("Was it on January 11 or January 12?", ("January 11", "January 12", "Was it?", False, True)),
        ("was it on the 11th or 12th", ("the 11th", "12th", "was it", False, True)),
    ],
)
def test_a_choice_between_two_alternatives(question: str, choice: tuple[str, ...]) -> None:
    assert choice_of(question) == Choice(*choice)


@given(st.text(max_size=200))
def test_a_choice_is_read_from_any_text_and_removes_what_it_offers(text: str) -> None:
    found = choice_of(text)
    if found is not None:
        assert found.first in text and found.second in text
        assert len(found.rest) < len(text)


def test_x_or_other_things_is_no_choice() -> None:
    assert choice_of("Will Japan send tanks or other equipment?") is None
    assert choice_of("Was it in Tokyo or in other city?") is not None


def test_or_not_is_no_choice() -> None:
    assert choice_of("Did they meet or not?") is None
    assert choice_of("Was it in May or something?") is None


def test_which_other_and_the_other_things_ask_beyond_what_is_named() -> None:
    assert focus_of("What were the other priority issues besides Ukraine?").others
    assert focus_of("Which other countries' leaders will attend?").others
    assert focus_of("On which weekday did they meet?").facet == "date"


def test_when_exactly_asks_for_the_exact_date() -> None:
    assert focus_of("When exactly will the program be signed?").specific
