"""Turning an answer into a Discord reply (embed + components), for every entry point alike."""

from __future__ import annotations

from dataclasses import dataclass

import discord
from discord.utils import MISSING

from bot.core.answers import Answer
from bot.core.models import Scope, Source
from bot.discord_app import render
from bot.discord_app.views import FeedbackButton, SuggestionSelect


@dataclass
class Reply:
    embed: discord.Embed
    view: discord.ui.View | None = None
    content: str | None = None


async def send_interaction(
    interaction: discord.Interaction, reply: Reply, *, ephemeral: bool
) -> discord.Message | None:
    """Answer an interaction, or follow up if it was deferred; nobody is ever pinged.

    Returns the message sent, when Discord reports it."""
    view = reply.view if reply.view is not None else MISSING
    if interaction.response.is_done():
        return await interaction.followup.send(
            content=reply.content or MISSING,
            embed=reply.embed,
            view=view,
            ephemeral=ephemeral,
            allowed_mentions=render.NO_PINGS,
            wait=True,
        )
    callback = await interaction.response.send_message(
        content=reply.content,
        embed=reply.embed,
        view=view,
        ephemeral=ephemeral,
        allowed_mentions=render.NO_PINGS,
    )
    resource = callback.resource if callback is not None else None
    return resource if isinstance(resource, discord.Message) else None


async def reply_to_message(message: discord.Message, reply: Reply) -> discord.Message:
    """Reply to a DM or a mention without pinging its author or anyone it mentioned."""
    view = reply.view if reply.view is not None else MISSING
    return await message.reply(
        content=reply.content,
        embed=reply.embed,
        view=view,
        allowed_mentions=render.NO_PINGS,
        mention_author=False,
    )


def build_reply(answer: Answer, question_id: int | None, scope: Scope, source: Source | None) -> Reply:
    """Answered: the cited embed with feedback buttons. Not known: the honest embed and a
    menu of the closest questions."""
    if answer.answered:
        view: discord.ui.View | None = None
        if question_id is not None:
            view = discord.ui.View(timeout=None)
            view.add_item(FeedbackButton(question_id, helpful=True))
            view.add_item(FeedbackButton(question_id, helpful=False))
        return Reply(render.answer_embed(answer), view)
    view = None
    if answer.suggestions:
        view = discord.ui.View(timeout=None)
        view.add_item(SuggestionSelect.build(scope, answer.suggestions, answer.suggestion_keys))
    return Reply(render.unknown_embed(answer, source), view)
