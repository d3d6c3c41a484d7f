"""Finding the question in a message and splitting a multi-part question."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.understanding import MAX_PARTS, understand
from bot.core.understanding.question import (
    Part,
    confirmation,
    find_questions,
    passed_on,
    personal_pronouns,
    sentences,
    split_parts,
    with_default_subject,
)


def _questions(message: str) -> list[str]:
    return [p.question for p in understand(message).parts]


@pytest.mark.parametrize(
    ("message", "asked"),
    [
        (
            "Hi! I'm writing a report for my politics class and my teacher said to use this article. "
            "Which city was the meeting held in?",
            ["Which city was the meeting held in?"],
        ),
        ("I'm writing a report for class, which city was it held in?", ["which city was it held in?"]),
        ("I'm writing a report for class\u2026 which city was it held in?", ["which city was it held in?"]),
        ("I was wondering who attended", ["who attended"]),
        ("Can you tell me what Blinken said about Putin?", ["what Blinken said about Putin?"]),
        ("Could you list the four ministers?", ["the four ministers?"]),
        (
            "I'm confused about one thing. What NATO program did the U.S. endorse?",
            ["What NATO program did the US endorse?"],
        ),
        ("In the photo, who's on the far left?", ["In the photo, who's on the far left?"]),
        ("the attendees", ["the attendees"]),
        (
            "I think it came up on the news. Anyway, what I actually want to know is where that meeting "
            "was held, because I'm arguing with my brother about it.",
            ["where that meeting was held"],
        ),
        # a question passed on a sentence or two before a bare request
        (
            "One question on her worksheet asks who attended. She's stuck and so am I. Any idea?",
            ["who attended?"],
        ),
        # a guess before the question is not part of it
        ("I guessed Iran, but which country was it really?", ["which country was it really?"]),
        # "Which is it?" asks again the question passed on before
        (
            "The quiz asks which country will host the meeting. I was going to put Poland. Which is it?",
            ["which country will host the meeting?"],
        ),
        # a guess with an open alternative asks what it was
        (
            "The statement named a treaty Russia broke. Was that the Geneva Conventions or something else?",
            ["what was that?"],
        ),
        # "Who's right?" asks to confirm the claims before it
        ("One says they met in Tokyo. Who's right?", ["did One says they met in Tokyo?"]),
        (
            "I guessed the US presides over the G7. Was I wrong?",
            ["did I guessed the US presides over the G7?"],
        ),
        ("I'd love to know whether Zelensky was invited.", ["did Zelensky was invited?"]),
        # the asker's guess to a question passed on: the question is what to answer
        (
            "She asked me which country presides over the G7. I guessed the US - was I wrong?",
            ["which country presides over the G7?"],
        ),
        # a later sentence opening with "also" asks too
        (
            "what did they condemn? also what did they say about china",
            ["what did they condemn?", "what did they say about china"],
        ),
    ],
)
def test_finds_the_question_in_a_message(message: str, asked: list[str]) -> None:
    assert _questions(message) == asked


@pytest.mark.parametrize(
    ("message", "parts"),
    [
        ("who went and where was it held?", ["who went", "where was the meeting held?"]),
        ("When and where was the meeting?", ["when was the meeting?", "where was the meeting?"]),
        (
            "Who attended the meeting? And what did they condemn?",
            ["Who attended the meeting?", "what did they condemn?"],
        ),
        (
            "Who attended, and what was condemned, and where is the next meeting?",
            ["Who attended", "what was condemned", "where is the next meeting?"],
        ),
        (
            "Who represented Japan, and in which city was it held?",
            ["Who represented Japan", "in which city was the meeting held?"],
        ),
        ("Where is it, and roughly how many will come?", ["Where is it", "how many will come?"]),
        ("Did they discuss China and Russia?", ["Did they discuss China and Russia?"]),
        # a numbered list of questions
        (
            "1) where's the G7 summit 2) when is it",
            ["where's the G7 summit", "when is it"],
        ),
        # a bare question word asks it of the question before
        ("Where was the meeting? When?", ["Where was the meeting?", "when was the meeting?"]),
        (
            "Did Japan finish the NATO program? When?",
            ["Did Japan finish the NATO program?", "when did Japan finish the NATO program?"],
        ),
        # a question sentence of function words only is still a question ...
        ("Who attended? Where was it?", ["Who attended?", "Where was it?"]),
        # ... but a bare request is not
        ("Where was it? Can you tell me?", ["Where was it?"]),
        ("What did the U.S. and Japan agree on?", ["What did the US and Japan agree on?"]),
    ],
)
def test_splits_a_question_that_asks_several_things(message: str, parts: list[str]) -> None:
    assert _questions(message) == parts


def test_a_question_that_points_back_borrows_the_sentence_before_it() -> None:
    [part] = find_questions("It mentioned Russia violating some document. Which one was it?")
    assert part == Part(
        "Which one was it?",
        "It mentioned Russia violating some document.",
        leans=True,
        before="It mentioned Russia violating some document.",
    )
    assert part.text == "Which one was it? It mentioned Russia violating some document."
    # With words of its own it may also be read alone; background is tried first.
    [own] = find_questions("I wrote down 'as long as'. What was the rest of his phrase about Ukraine?")
    assert own.context and not own.leans and own.context_first
    # A question that points nowhere needs no context.
    [plain] = find_questions("I read the piece twice. When did the ministers meet?")
    assert plain.context == ""


def test_a_later_part_that_points_back_leans_on_the_first() -> None:
    first, second = split_parts(Part("How many ministers will gather, and what will they talk about?"))
    assert first == Part("How many ministers will gather")
    assert second.before == "How many ministers will gather"
    assert second.context == first.question and second.leans
    # A sibling with words of its own is read alone first, the sibling as a fallback.
    _, budget = split_parts(Part("Who represented Japan, and what did they say about China?"))
    assert budget.context and not budget.leans and not budget.context_first


def test_abbreviation_dots_do_not_end_a_sentence() -> None:
    assert sentences("Did Antony J. Blinken go to Washington, D.C. on Jan. 11? Yes.") == [
        "Did Antony J. Blinken go to Washington, D.C. on Jan. 11?",
        "Yes.",
    ]


@given(st.text(max_size=400))
def test_understanding_any_text_yields_at_most_max_parts(text: str) -> None:
    parts = understand(text).parts
    assert 1 <= len(parts) <= MAX_PARTS
    for part in parts:
        assert isinstance(part.question, str)


@given(
    st.lists(
        st.sampled_from(["who", "what", "where", "when", "and", "was", "it", ",", "?", "did", "x"]),
        max_size=30,
    )
)
def test_question_shaped_noise_never_breaks_splitting(words: list[str]) -> None:
    parts = understand(" ".join(words)).parts
    assert 1 <= len(parts) <= MAX_PARTS


def test_a_bare_it_is_the_meeting() -> None:
    assert with_default_subject("where was it held?") == "where was the meeting held?"
    assert with_default_subject("which city did they meet in?") == "which city did the ministers meet in?"
    assert with_default_subject("Where did that meeting happen?") == "Where did the meeting happen?"
    # Not when "it" has something else to point to, or the question says enough by itself.
    assert with_default_subject("what did they call it?") == "what did they call it?"
    assert with_default_subject("Is it true that Japan holds the G7 presidency?") == (
        "Is it true that Japan holds the G7 presidency?"
    )
    assert [p.question for p in understand("Who went and where was it held?").parts] == [
        "Who went",
        "where was the meeting held?",
    ]


@given(st.text(max_size=200))
def test_the_default_subject_only_replaces_it(text: str) -> None:
    replaced = with_default_subject(text)
    assert replaced == text or replaced.replace("the meeting", "it", 1).lower() == text.lower()


@pytest.mark.parametrize(
    ("message", "asked"),
    [
        (
            "Hayashi was there as Japan's foreign minister, wasn't he?",
            "did Hayashi was there as Japan's foreign minister?",
        ),
        ("The next meeting is in Poland, correct?", "did The next meeting is in Poland?"),
        ("Is it true that the summit is in June?", "did the summit is in June?"),
        ("My friend says they met in Tokyo. Is that true?", "did My friend says they met in Tokyo?"),
        ("I think it was in Germany. Is that right?", "did it was in Germany?"),
        ("Where was it held, right?", "Where was it held"),
    ],
)
def test_a_statement_put_up_for_confirmation_is_a_yes_no_question(message: str, asked: str) -> None:
    assert _questions(message) == [asked]
    assert confirmation("who attended") is None


def test_a_lone_is_that_right_is_kept_as_asked() -> None:
    assert _questions("Is that right?") == ["Is that right?"]


def test_a_topic_before_the_question_is_its_context_a_preamble_is_not() -> None:
    [topic] = find_questions("The drills of Russia and China, where are they held?")
    assert topic.question == "where are they held?" and topic.context == "The drills of Russia and China"
    [preamble] = find_questions("I'm writing a report for class, which city was it held in?")
    assert preamble.question == "which city was it held in?" and not preamble.context


def test_a_later_question_sentence_that_points_back_is_a_sibling_of_the_one_before() -> None:
    first, second = find_questions(
        "Which continent did Blinken say is also affected? And whose war did he call it?"
    )
    assert second.question == "whose war did he call it?"
    assert second.context == first.question and not second.context_first
    # Everything said before a question is kept, for a pronoun to find its person in.
    assert second.before == "Which continent did Blinken say is also affected?"


def test_every_question_knows_what_was_said_before_it() -> None:
    [part] = find_questions(
        "I follow Lloyd Austin closely. At the press conference he made a claim. What did he say?"
    )
    assert part.before.startswith("I follow Lloyd Austin closely.")
    assert personal_pronouns(part.question) == {"he"}
    assert personal_pronouns("Where was the meeting held?") == set()


def test_a_question_about_the_telling_leans_on_what_came_before() -> None:
    [part] = find_questions("I heard they talked about the weather in DC. Does the article say?")
    assert part.context == "I heard they talked about the weather in DC." and part.leans


@pytest.mark.parametrize(
    ("message", "question"),
    [
        (
            "My grandfather asks about this. He wants to know where the talks took place. Can you tell me?",
            "where the talks took place?",
        ),
        ("My teacher wants to know who attended.", "who attended?"),
        ("She asked me whether Zelensky was invited. Do you know?", "did Zelensky was invited?"),
    ],
)
def test_a_question_passed_on_is_asked_when_only_a_request_follows(message: str, question: str) -> None:
    [part] = find_questions(message)
    assert part.question == question


def test_a_question_of_its_own_after_a_passed_on_one_leans_on_it() -> None:
    [part] = find_questions("Someone asked what Blinken said about Asia. What did he say?")
    assert part.question == "What did he say?" and part.leans
    assert passed_on("He said it was fine.") is None


def test_which_ones_points_back_to_the_head_of_its_sentence() -> None:
    [part] = find_questions("Blinken listed some principles that nations should respect \u2014 which ones?")
    assert part.question == "which ones?" and part.leans
    assert part.context == "Blinken listed some principles that nations should respect"
