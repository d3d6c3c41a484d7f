from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.wording import human_join, noun, plural, plural_of

words = st.text(alphabet=st.characters(categories=["L", "N", "P", "Zs"]), min_size=1, max_size=20)


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("entry", "entries"),
        ("day", "days"),
        ("problem", "problems"),
        ("phrasing", "phrasings"),
        ("match", "matches"),
        ("box", "boxes"),
        ("more problem", "more problems"),
        ("older version", "older versions"),
    ],
)
def test_plural_of_regular_nouns(word: str, expected: str) -> None:
    assert plural_of(word) == expected


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 entries"), (1, "1 entry"), (2, "2 entries"), (-1, "-1 entries"), (1500, "1500 entries")],
)
def test_plural_agrees_with_the_count(count: int, text: str) -> None:
    assert plural(count, "entry") == text


def test_noun_is_the_form_that_agrees_without_the_count() -> None:
    assert [noun(n, "permission") for n in (0, 1, 2)] == ["permissions", "permission", "permissions"]
    assert noun(2, "person", "people") == "people"


def test_an_irregular_plural_is_given() -> None:
    assert plural(2, "person", "people") == "2 people"
    assert plural(1, "person", "people") == "1 person"


@given(st.integers(min_value=-(10**6), max_value=10**6), words)
def test_plural_starts_with_the_count_and_keeps_the_singular_for_one(count: int, word: str) -> None:
    text = plural(count, word)
    assert text.startswith(f"{count} ")
    assert (text == f"1 {word}") == (count == 1)


@pytest.mark.parametrize(
    ("items", "text"),
    [([], ""), (["A"], "A"), (["A", "B"], "A and B"), (["A", "B", "C"], "A, B and C")],
)
def test_human_join(items: list[str], text: str) -> None:
    assert human_join(items) == text


def test_human_join_takes_another_conjunction_and_any_iterable() -> None:
    assert human_join((x for x in "ab"), "or") == "a or b"


@given(st.lists(words, max_size=8))
def test_human_join_keeps_every_item_in_order(items: list[str]) -> None:
    text = human_join(items)
    position = 0
    for item in items:
        found = text.find(item, position)
        assert found >= 0
        position = found + len(item)
    assert (" and " in text) or len(items) < 2
