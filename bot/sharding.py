"""Which Discord shards this process runs: parsing `BOT_SHARD_IDS` and the shard of a server.

Discord routes every event of a server to shard `(guild_id >> 22) % shard_count`, and direct
messages to shard 0. Several processes split the shards between them; each is told the total
(`BOT_SHARD_COUNT`) and its own part (`BOT_SHARD_IDS`, "0,1" or "2-3").
"""

from __future__ import annotations

from dataclasses import dataclass

#: More shard ids in one process than this is a typo ("0-100000"), not a plan.
MAX_SHARDS_PER_PROCESS = 1024


class ShardSpecError(ValueError):
    """A shard list that cannot be read; the message says what is wrong, politely."""


def parse_shard_ids(text: str) -> tuple[int, ...]:
    """`"0,1"`, `"2-3"` or a mix (`"0-2,5"`) -> the sorted shard ids; whitespace is ignored.

    Raises ShardSpecError for anything else: an empty item, a non-number, a negative number, a
    range that runs backwards, or a shard listed twice (which is always a mistake in a plan).
    """
    items = [item.strip() for item in text.split(",")]
    if not any(items):
        raise ShardSpecError("no shard ids given (expected e.g. '0,1' or '0-3')")
    found: set[int] = set()
    for item in items:
        if not item:
            raise ShardSpecError(f"empty item in {text.strip()!r} (expected e.g. '0,1' or '0-3')")
        for shard in _expand(item):
            if shard in found:
                raise ShardSpecError(f"shard {shard} is listed twice")
            found.add(shard)
            if len(found) > MAX_SHARDS_PER_PROCESS:
                raise ShardSpecError(f"more than {MAX_SHARDS_PER_PROCESS} shards in one process")
    return tuple(sorted(found))


def _expand(item: str) -> range:
    start_text, dash, end_text = item.partition("-")
    start = _number(start_text.strip(), item)
    if not dash:
        return range(start, start + 1)
    end = _number(end_text.strip(), item)
    if end < start:
        raise ShardSpecError(f"range {item!r} runs backwards (write the smaller shard first)")
    if end - start >= MAX_SHARDS_PER_PROCESS:
        raise ShardSpecError(f"range {item!r} has more than {MAX_SHARDS_PER_PROCESS} shards")
    return range(start, end + 1)


def _number(text: str, item: str) -> int:
    # ASCII digits only: int() would also take "٣" or "1_0", which nobody means here.
    if not text or not (text.isascii() and text.isdigit()):
        raise ShardSpecError(f"{item!r} is not a shard id or a range like '0-3'")
    return int(text)


def format_shard_ids(ids: tuple[int, ...] | list[int]) -> str:
    """The shortest text `parse_shard_ids` reads back as `ids`: runs become ranges ("0-3,7")."""
    parts: list[str] = []
    ordered = sorted(ids)
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        first, last = ordered[index], ordered[end]
        parts.append(str(first) if first == last else f"{first}-{last}")
        index = end + 1
    return ",".join(parts)


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard Discord sends a server's events to; direct messages (no server) go to shard 0."""
    if guild_id is None:
        return 0
    return (guild_id >> 22) % shard_count


@dataclass(frozen=True)
class ShardPlan:
    """What this process runs. `count=None`: one process runs every shard, as many as Discord
    recommends (asked at connect time); `ids=None` with a count: all of `0..count-1`."""

    count: int | None = None
    ids: tuple[int, ...] | None = None

    @property
    def shard_ids(self) -> tuple[int, ...] | None:
        """The ids this process runs, or None while Discord decides the count."""
        if self.ids is not None:
            return self.ids
        return tuple(range(self.count)) if self.count is not None else None

    @property
    def runs_shard_zero(self) -> bool:
        """Shard 0 gets direct messages; its process is also the one that syncs commands."""
        ids = self.shard_ids
        return ids is None or 0 in ids

    @property
    def label(self) -> str:
        """For log lines: "0-1/4" (shards 0 and 1 of 4), or "all" before Discord decides."""
        ids = self.shard_ids
        if ids is None:
            return "all"
        return f"{format_shard_ids(ids)}/{self.count}"
