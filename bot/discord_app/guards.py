"""Abuse control: a per-user question rate, no reposting of a fresh answer, and fair shares.

One limiter serves slash commands, the context menu, DMs and mentions, so a user cannot get
around the rate by switching from /ask to a DM. `FairShare` gives each member and each server
its own budget of costly interactions (/qa commands, autocomplete), so one server's moderators
cannot slow the bot for every other server. The numbers live in `bot.core.limits`.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.limits import RATE_LIMIT_USERS, RECENT_ANSWERS
from bot.core.text import normalize_query

Clock = Callable[[], float]


class QuestionLimiter:
    """`rate` questions per `per` seconds per user, on discord.py's own token bucket."""

    def __init__(self, rate: int, per: float, *, max_users: int = RATE_LIMIT_USERS) -> None:
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

    def __init__(
        self, window: float, *, clock: Clock = time.monotonic, max_items: int = RECENT_ANSWERS
    ) -> None:
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


def member_key(interaction: discord.Interaction) -> Hashable:
    return (interaction.guild_id or 0, interaction.user.id)


def server_key(interaction: discord.Interaction) -> Hashable:
    return interaction.guild_id or 0


class FairShare:
    """A budget per member and a budget per server, on discord.py's `CooldownMapping`
    (which also forgets buckets once they are full again, so memory stays bounded)."""

    def __init__(self, per_member: tuple[int, float], per_server: tuple[int, float]) -> None:
        self._member: commands.CooldownMapping[discord.Interaction] = commands.CooldownMapping.from_cooldown(
            per_member[0], per_member[1], member_key
        )
        self._server: commands.CooldownMapping[discord.Interaction] = commands.CooldownMapping.from_cooldown(
            per_server[0], per_server[1], server_key
        )

    @staticmethod
    def _wait(
        mapping: commands.CooldownMapping[discord.Interaction], interaction: discord.Interaction
    ) -> float:
        bucket = mapping.get_bucket(interaction)
        return (bucket.update_rate_limit() or 0.0) if bucket is not None else 0.0

    def member_wait(self, interaction: discord.Interaction) -> float:
        """Seconds this member must wait (0: allowed, and counted)."""
        return self._wait(self._member, interaction)

    def server_wait(self, interaction: discord.Interaction) -> float:
        """Seconds this server must wait (0: allowed, and counted)."""
        return self._wait(self._server, interaction)

    def allow(self, interaction: discord.Interaction) -> bool:
        """Both budgets at once: the member's first, so one member cannot spend the server's."""
        return self.member_wait(interaction) == 0.0 and self.server_wait(interaction) == 0.0
