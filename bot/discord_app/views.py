"""Persistent components: feedback buttons and the suggestion menu.

Both are `DynamicItem`s: their state lives in the custom_id, so they keep working after the
bot restarts, with no view registry to rebuild.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, cast

import discord

from bot.core.models import Scope
from bot.core.store import QuestionNotFound, StoreError
from bot.discord_app import render
from bot.discord_app.errors import cooldown_text

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

log = logging.getLogger(__name__)


def _bot(interaction: discord.Interaction) -> MeetingBot:
    return cast("MeetingBot", interaction.client)


class FeedbackButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"fb:(?P<qid>[0-9]+):(?P<vote>[01])"
):
    def __init__(self, question_id: int, *, helpful: bool) -> None:
        self.question_id = question_id
        self.helpful = helpful
        super().__init__(
            discord.ui.Button(
                label="Helpful" if helpful else "Not helpful",
                emoji="\N{THUMBS UP SIGN}" if helpful else "\N{THUMBS DOWN SIGN}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"fb:{question_id}:{int(helpful)}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(int(match["qid"]), helpful=match["vote"] == "1")

    async def callback(self, interaction: discord.Interaction) -> None:
        assistant = _bot(interaction).assistant
        try:
            await assistant.record_feedback(self.question_id, interaction.user.id, self.helpful)
        except QuestionNotFound:
            await interaction.response.send_message("That answer is too old to rate, sorry.", ephemeral=True)
            return
        except StoreError as exc:
            await interaction.response.send_message(str(exc), ephemeral=True)
            return
        thanks = "Thanks, glad it helped!" if self.helpful else "Thanks, noted: the moderators will see it."
        await interaction.response.send_message(thanks, ephemeral=True)


class SuggestionSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"sg:(?P<scope>[0-9]+):(?P<nonce>[0-9]+)"
):
    """A menu of the questions closest to one the bot could not answer; choosing one answers it."""

    def __init__(self, scope: Scope, select: discord.ui.Select[Any]) -> None:
        self.scope = scope
        super().__init__(select)

    @classmethod
    def build(cls, scope: Scope, questions: list[str], keys: list[str]) -> SuggestionSelect:
        options = [
            discord.SelectOption(label=render.select_label(q), value=k[: render.MAX_SELECT_VALUE])
            for q, k in list(zip(questions, keys, strict=True))[: render.MAX_SELECT_OPTIONS]
        ]
        # The nonce keeps custom_ids unique when two menus share a message history.
        nonce = discord.utils.time_snowflake(discord.utils.utcnow())
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"sg:{scope or 0}:{nonce}", placeholder="Did you mean\u2026", options=options
        )
        return cls(scope, select)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SuggestionSelect:
        assert isinstance(item, discord.ui.Select)
        scope = int(match["scope"]) or None
        return cls(scope, item)

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot.discord_app.replies import build_reply, send_interaction

        bot = _bot(interaction)
        key = self.item.values[0] if self.item.values else ""
        label = next((o.label for o in self.item.options if o.value == key), key)
        bucket = bot.limiter.hit(interaction.user.id)
        if bucket is not None:
            await interaction.response.send_message(cooldown_text(bucket.get_retry_after()), ephemeral=True)
            return
        result = await bot.assistant.ask_document(
            label, key, self.scope, channel_id=interaction.channel_id, user_id=interaction.user.id
        )
        if result is None:
            await interaction.response.send_message(
                "That question is no longer in the knowledge base.", ephemeral=True
            )
            return
        reply = build_reply(result.answer, result.question_id, self.scope, bot.primary_source)
        # Keep the privacy of the message the menu was on.
        ephemeral = bool(interaction.message and interaction.message.flags.ephemeral)
        await send_interaction(interaction, reply, ephemeral=ephemeral)
