"""Matching a moderator's search against a server's entries: the same order as the plain
definition (substring matches in entry order, then fuzzy matches best first, ties by id)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from bot.core.entry_matching import LIST_FUZZY_CUTOFF, Item, MatchTable
from bot.core.text import normalize_query


def plain_order(items: Sequence[Item], query: str) -> list[int]:
    """The definition, one text and one comparison at a time."""
    needle = query.strip().casefold()
    exact = [
        n
        for n, (entry_id, questions, answer) in enumerate(items)
        if any(needle in text.casefold() for text in (entry_id, *questions, answer))
    ]
    key = normalize_query(needle)
    if not key:
        return exact
    best: dict[int, float] = {}
    for n, (entry_id, questions, _) in enumerate(items):
        if n in exact:
            continue
        scores = [fuzz.token_set_ratio(key, normalize_query(t)) for t in (entry_id, *questions)]
        if max(scores) >= LIST_FUZZY_CUTOFF:
            best[n] = max(scores)
    return exact + sorted(best, key=lambda n: (-best[n], items[n][0]))


WORDS = [
    "motto",
    "club",
    "Blinken",
    "Hayashi",
    "meeting",
    "Tokyo",
    "what",
    "is",
    "our",
    "\u00e9t\u00e9",
    "Stra\u00dfe",
]
text = st.lists(st.sampled_from(WORDS), min_size=1, max_size=6).map(" ".join)
items = st.lists(
    st.tuples(
        st.from_regex(r"[a-z]{1,8}(-[a-z0-9]{1,6}){0,2}", fullmatch=True),
        st.lists(text, min_size=1, max_size=4),
        text,
    ),
    max_size=12,
    unique_by=lambda item: item[0],
)
queries = st.one_of(
    text,
    st.text(max_size=12),
    st.sampled_from(["", "  ", "MOTTO", "blinkn", "club motto", "strasse", "a\x00b", "-"]),
)


@settings(max_examples=300, deadline=None)
@given(items=items, query=queries)
def test_the_table_orders_as_the_definition(items: list[Item], query: str) -> None:
    assert MatchTable(items).order(query) == plain_order(items, query)


def test_a_match_never_spans_two_texts() -> None:
    table = MatchTable([("one", ["club"], "motto"), ("two", ["club motto"], "")])
    assert table.order("b\x00m") == []  # "club" + "motto" of entry 0 would contain it, joined
    assert table.order("club motto") == [1, 0]  # the substring match, then the fuzzy one


def test_an_empty_server_matches_nothing() -> None:
    assert MatchTable([]).order("motto") == []
