"""Persistent components: feedback buttons and the suggestion menu.

Both are `DynamicItem`s: their state lives in the custom_id, so they keep working after the
bot restarts, with no view registry to rebuild.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.core.store import QuestionNotFound, StoreError
from bot.discord_app import render
from bot.discord_app.replies import respond

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot


#: The custom_ids of the components below (their state is in them); see `LiveComponents.listen_for`.
FEEDBACK_ID = re.compile(r"fb:(?P<qid>[0-9]+):(?P<vote>[01])")
# Menus sent before the server id was dropped from the custom_id carry it as a first number.
SUGGESTION_ID = re.compile(r"sg:(?:[0-9]+:)?(?P<nonce>[0-9]+)")


class FeedbackButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=FEEDBACK_ID):
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
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> FeedbackButton:
        return cls(int(match["qid"]), helpful=match["vote"] == "1")

    async def callback(self, interaction: discord.Interaction[MeetingBot]) -> None:  # type: ignore[override]
        try:
            await interaction.client.assistant.record_feedback(
                self.question_id, interaction.user.id, self.helpful
            )
        except QuestionNotFound:
            await respond(interaction, "That answer is too old to rate, sorry.")
            return
        except StoreError as exc:
            await respond(interaction, str(exc))
            return
        thanks = "Thanks, glad it helped!" if self.helpful else "Thanks, noted: the moderators will see it."
        await respond(interaction, thanks)


class SuggestionSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=SUGGESTION_ID):
    """A menu of the questions closest to one the bot could not answer; choosing one answers it
    (in the server, or DM, where it is chosen)."""

    def __init__(self, select: discord.ui.Select[Any]) -> None:
        super().__init__(select)

    @classmethod
    def build(cls, questions: list[str], keys: list[str]) -> SuggestionSelect:
        options = [
            discord.SelectOption(label=render.select_label(q), value=k[: render.MAX_SELECT_VALUE])
            for q, k in list(zip(questions, keys, strict=True))[: render.MAX_SELECT_OPTIONS]
        ]
        # The nonce keeps custom_ids unique when two menus share a message history.
        nonce = discord.utils.time_snowflake(discord.utils.utcnow())
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"sg:{nonce}", placeholder="Did you mean\u2026", options=options
        )
        return cls(select)

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction,
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> SuggestionSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(item)

    async def callback(self, interaction: discord.Interaction[MeetingBot]) -> None:  # type: ignore[override]
        # Imported here: the asking path builds these menus, so it imports this module.
        from bot.discord_app.asking import InteractionAsker, Question, answer

        key = self.item.values[0] if self.item.values else ""
        label = next((o.label for o in self.item.options if o.value == key), key)
        # Keep the privacy of the message the menu was on.
        public = not (interaction.message is not None and interaction.message.flags.ephemeral)
        await answer(InteractionAsker(interaction, public=public, where="a suggestion"), Question(label, key))
