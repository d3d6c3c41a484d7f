"""Chat noise and shorthand: examples, and properties over arbitrary text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.understanding.chat import FILLERS, clean_chat, expand_abbreviations, strip_emoji


@pytest.mark.parametrize(
    ("message", "cleaned"),
    [
        ("ok so wher did they meet lol 😂", "where did they meet"),
        ("how many ppl were at the mtg rn", "how many people were at the meeting"),
        ("who r the ppl abt ukraine w/ japan", "who are the people about ukraine with japan"),
        ("bruh what did blinken say ngl", "what did blinken say"),
        ("whyyy did they meet???", "why did they meet?"),
        ("what did the U.S. say", "what did the US say"),
        ("Who is Lloyd J. Austin III?", "Who is Lloyd J. Austin III?"),
        ("what did they say :) <:pepe:123456> :thumbsup:", "what did they say"),
        # a question word typed as another word, where a verb follows it
        ("Were was the meeting held?", "where was the meeting held?"),
        ("Who came? wen is the summit", "Who came? when is the summit"),
        ("Were there four ministers?", "Were there four ministers?"),
        # who a message is addressed to is not part of the question
        ("yo @bot who was even there", "who was there"),
        ("<@1234567> where was it held", "where was it held"),
        ("what are they tryna fix, energy or smth", "what are they trying to fix, energy or something"),
        ("replying to @kenji: tldr where is it", "where is it"),
        (
            "wat did austin say abut it acc to the article",
            "what did austin say about it according to the article",
        ),
    ],
)
def test_cleans_chat(message: str, cleaned: str) -> None:
    assert clean_chat(message) == cleaned


def test_a_capital_u_in_a_name_is_not_you() -> None:
    assert expand_abbreviations("the U S side") == "the you S side"  # the chat "U" ...
    assert (
        clean_chat("what did the U.S. and Japan agree") == "what did the US and Japan agree"
    )  # ... not "U.S."


def test_a_message_of_pure_noise_is_kept_as_typed() -> None:
    # Nothing is thrown away without a reason: "lol" still reaches the polite decline.
    assert clean_chat("lol") == "lol"
    assert clean_chat("😂😂") == "😂😂"


def test_emoji_and_emoticons_are_removed() -> None:
    assert strip_emoji("hi 👋🏽 there :D").split() == ["hi", "there"]


@given(st.text(max_size=300))
def test_cleaning_never_raises_and_keeps_a_message_with_words(text: str) -> None:
    cleaned = clean_chat(text)
    if any(ch.isalnum() for ch in text):
        assert any(ch.isalnum() for ch in cleaned)


@given(st.text(alphabet=st.characters(codec="ascii"), max_size=200))
def test_cleaning_is_stable(text: str) -> None:
    once = clean_chat(text)
    # A second pass finds no more noise in what the first pass left (or returns it unchanged).
    assert clean_chat(once).split() == once.split() or clean_chat(once) == once.strip()


#: Chat text with what the passes' shortcuts test for: fillers (any case, with punctuation
#: around them), mistyped question words, "@", dots, doubled marks, accents.
chat_text = st.lists(
    st.one_of(
        st.sampled_from(FILLERS),
        st.sampled_from(["Were", "wen", "WAT", "wer", "was", "is", "held", "LOL", "Tl;Dr", "Like,"]),
        st.sampled_from([" ", "  ", ",", ", ", "?", "!!", "...", "@", "'", "-", "."]),
        st.sampled_from(["\u00e9", "\u212a", "\u017f"]),  # an accent, the Kelvin sign, a long s
    ),
    max_size=25,
).map("".join)


@given(chat_text)
def test_a_skipped_pass_would_have_changed_nothing(text: str) -> None:
    from bot.core.understanding.chat import (
        _FILLER_RE,
        _MEANT,
        _MISTYPED_QUESTION_WORD,
        _may_hold_filler,
        _may_hold_mistyped,
    )

    assert _may_hold_filler(text) or _FILLER_RE.sub(" ", text) == text
    mistyped = _MISTYPED_QUESTION_WORD.sub(lambda m: _MEANT[m.group(1).lower()], text)
    assert _may_hold_mistyped(text) or mistyped == text
