"""The shard list parser (`BOT_SHARD_IDS`) and which shard a server belongs to."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.sharding import (
    MAX_SHARDS_PER_PROCESS,
    ShardPlan,
    ShardSpecError,
    format_shard_ids,
    parse_shard_ids,
    shard_of,
)

shard_sets = st.sets(st.integers(0, 5000), min_size=1, max_size=60)
spaces = st.text(" \t", max_size=2)


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("0", (0,)),
        ("0,1", (0, 1)),
        ("2-3", (2, 3)),
        (" 3 , 1 ", (1, 3)),
        ("0-2,5", (0, 1, 2, 5)),
        ("4-4", (4,)),
    ],
)
def test_lists_and_ranges(text: str, ids: tuple[int, ...]) -> None:
    assert parse_shard_ids(text) == ids


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no shard ids"),
        ("0,,1", "empty item"),
        ("1,", "empty item"),
        ("a", "not a shard id"),
        ("-1", "not a shard id"),
        ("1.5", "not a shard id"),
        ("3-1", "runs backwards"),
        ("0-1,1", "listed twice"),
        ("1-2-3", "not a shard id"),
        ("٣", "not a shard id"),
        (f"0-{MAX_SHARDS_PER_PROCESS}", "more than"),
    ],
)
def test_bad_lists_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ShardSpecError, match=says):
        parse_shard_ids(text)


@given(shard_sets)
def test_format_reads_back(ids: set[int]) -> None:
    text = format_shard_ids(tuple(ids))
    assert parse_shard_ids(text) == tuple(sorted(ids))
    # Runs are written as ranges: never more items than there are gaps plus one.
    gaps = sum(1 for a, b in zip(sorted(ids), sorted(ids)[1:], strict=False) if b != a + 1)
    assert text.count(",") == gaps


@given(shard_sets, st.data())
def test_any_spacing_and_order_of_a_comma_list(ids: set[int], data: st.DataObject) -> None:
    ordered = data.draw(st.permutations(sorted(ids)))
    text = ",".join(f"{data.draw(spaces)}{shard}{data.draw(spaces)}" for shard in ordered)
    assert parse_shard_ids(text) == tuple(sorted(ids))


@given(st.integers(0, 10_000), st.integers(0, MAX_SHARDS_PER_PROCESS - 1))
def test_a_range_is_every_shard_between_its_ends(start: int, length: int) -> None:
    assert parse_shard_ids(f"{start}-{start + length}") == tuple(range(start, start + length + 1))


@given(st.text(max_size=30))
def test_any_text_parses_or_is_refused_politely(text: str) -> None:
    try:
        ids = parse_shard_ids(text)
    except ShardSpecError as exc:
        assert str(exc)
    else:
        assert ids == tuple(sorted(set(ids))) and all(shard >= 0 for shard in ids)


@given(st.integers(0, 2**63 - 1), st.integers(1, 64))
def test_shard_of_a_server_is_discords_formula(guild_id: int, count: int) -> None:
    shard = shard_of(guild_id, count)
    assert 0 <= shard < count
    assert shard == (guild_id >> 22) % count


def test_direct_messages_are_on_shard_zero() -> None:
    assert shard_of(None, 8) == 0


def test_plans() -> None:
    assert ShardPlan().shard_ids is None and ShardPlan().runs_shard_zero and ShardPlan().label == "all"
    assert ShardPlan(4).shard_ids == (0, 1, 2, 3) and ShardPlan(4).label == "0-3/4"
    assert not ShardPlan(4, (2, 3)).runs_shard_zero and ShardPlan(4, (2, 3)).label == "2-3/4"
    assert ShardPlan(4, (0, 2)).runs_shard_zero and ShardPlan(4, (0, 2)).label == "0,2/4"
