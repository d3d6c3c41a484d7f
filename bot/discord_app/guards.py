"""Abuse control for askers: a per-user question rate, and no reposting of a fresh answer.

One limiter serves slash commands, the context menu, DMs and mentions, so a user cannot get
around the rate by switching from /ask to a DM.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from discord import app_commands

from bot.core.text import normalize_query

Clock = Callable[[], float]


class QuestionLimiter:
    """`rate` questions per `per` seconds per user, on discord.py's own token bucket."""

    def __init__(self, rate: int, per: float, *, max_users: int = 10_000) -> None:
        self.rate = rate
        self.per = per
        self._max_users = max_users
        self._buckets: OrderedDict[int, app_commands.Cooldown] = OrderedDict()

    def hit(self, user_id: int) -> app_commands.Cooldown | None:
        """Count one question; return the bucket when the user is over the limit."""
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = app_commands.Cooldown(self.rate, self.per)
            # Bounded memory: forget the least recently seen users first.
            while len(self._buckets) > self._max_users:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(user_id)
        return bucket if bucket.update_rate_limit() else None


class RecentAnswers:
    """Remembers what was answered publicly in each channel for `window` seconds."""

    def __init__(self, window: float, *, clock: Clock = time.monotonic, max_items: int = 5_000) -> None:
        self.window = window
        self._clock = clock
        self._max_items = max_items
        self._seen: OrderedDict[tuple[int, str], tuple[float, str | None]] = OrderedDict()

    @staticmethod
    def _key(channel_id: int, question: str) -> tuple[int, str]:
        return channel_id, normalize_query(question)

    def recent(self, channel_id: int, question: str) -> tuple[bool, str | None]:
        """(True, link to the earlier answer or None) if this was answered here just now."""
        self._expire()
        found = self._seen.get(self._key(channel_id, question))
        return (True, found[1]) if found else (False, None)

    def remember(self, channel_id: int, question: str, link: str | None) -> None:
        if self.window <= 0:
            return
        key = self._key(channel_id, question)
        self._seen[key] = (self._clock(), link)
        self._seen.move_to_end(key)
        while len(self._seen) > self._max_items:
            self._seen.popitem(last=False)

    def _expire(self) -> None:
        now = self._clock()
        while self._seen:
            key, (at, _) = next(iter(self._seen.items()))
            if now - at < self.window:
                break
            del self._seen[key]
