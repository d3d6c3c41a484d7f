from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.core.english import (
    american,
    describes,
    english_corrections,
    is_english_word,
    names_a_thing,
    same_word,
)

words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", max_size=20)


def test_real_words_and_typos() -> None:
    for word in ("spending", "tanks", "weather", "table", "members"):
        assert is_english_word(word)
    for typo in ("atended", "meetng", "condemed", "sanctons", "blinkn"):
        assert not is_english_word(typo)


def test_british_and_american_forms_are_one_word() -> None:
    assert same_word("characterize", "characterised")
    assert same_word("defense", "defence")
    assert same_word("travelled", "traveling")
    assert not same_word("spending", "sending")
    assert not same_word("weather", "whether")


@given(words)
def test_american_never_raises_and_is_idempotent(word: str) -> None:
    once = american(word)
    assert american(once) == once


@given(words, words)
def test_same_word_is_symmetric(a: str, b: str) -> None:
    assert same_word(a, b) == same_word(b, a)


def test_things_are_told_from_actions_and_qualities() -> None:
    for thing in ("troops", "tanks", "interpreters", "weapons"):
        assert names_a_thing(thing)
    for other in ("fixing", "backed", "recently", "else", "somewhere", "broke", "tense", "productive"):
        assert not names_a_thing(other)


def test_describing_words_are_told_from_things_and_actions() -> None:
    for quality in ("tense", "routine", "productive", "successful", "reasonable"):
        assert describes(quality)
    for other in ("troops", "running", "treaty", "meeting"):
        assert not describes(other)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12))
def test_a_describing_word_never_names_a_thing(word: str) -> None:
    assert not (describes(word) and names_a_thing(word))


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12))
def test_a_verb_form_or_adverb_ending_never_names_a_thing(stem_: str) -> None:
    for ending in ("ing", "ed", "ly"):
        assert not names_a_thing(stem_ + ending)


def test_english_corrections_are_real_words_one_edit_away() -> None:
    assert "agency" in english_corrections("agensy")
    assert english_corrections("zzzzqx") == []


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=10))
def test_every_english_correction_is_an_english_word(word: str) -> None:
    assert all(is_english_word(w) and w != word for w in english_corrections(word))


#: Words as typed: real words, typos of them, numbers, apostrophes.
typed_words = st.one_of(
    words,
    st.sampled_from(["agensy", "meetng", "worrid", "atended", "alliance", "nan", "12", "3.5", "'", ""]),
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789'.", max_size=12),
)


@given(typed_words)
def test_one_edit_lookup_gives_what_the_spell_checker_gives(word: str) -> None:
    from bot.core import english

    english.preload()
    checker = english._checker
    assert checker is not None
    assert english._known_one_edit_away(checker, word) == (checker.candidates(word) or set())
