"""Sending: the one way the bot answers an interaction, and its reply to a message.

Nothing the bot sends pings anyone: the client's `allowed_mentions` default
(`render.NO_PINGS`, set once in `MeetingBot`) applies to every response, follow-up and reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import discord
from discord.utils import MISSING

from bot.discord_app import render


@dataclass
class Reply:
    """An answer as Discord shows it: the embed and its components (buttons, a menu)."""

    embed: discord.Embed
    view: discord.ui.View | None = None


async def respond(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    view: discord.ui.View | None = None,
    file: discord.File | None = None,
    ephemeral: bool = True,
) -> discord.Message | None:
    """Answer `interaction`, or follow it up if it was answered or deferred already; privately
    unless `ephemeral` is False. Text is cut to Discord's limit.

    Returns the message sent, when Discord reports it (a public answer's link)."""
    extras: dict[str, Any] = {"ephemeral": ephemeral}
    if embed is not None:
        extras["embed"] = embed
    if view is not None:
        extras["view"] = view
    if file is not None:
        extras["file"] = file
    text = render.truncate(content, render.MAX_MESSAGE) if content else None
    if interaction.response.is_done():
        return await interaction.followup.send(text or MISSING, wait=True, **extras)
    callback = await interaction.response.send_message(text, **extras)
    resource = callback.resource if callback is not None else None
    return resource if isinstance(resource, discord.Message) else None


async def reply_to_message(
    message: discord.Message, content: str | None = None, *, reply: Reply | None = None
) -> discord.Message:
    """Reply to a DM or a mention: a short text, or an answer. The reply says outright that it
    does not ping the author (`replied_user: false`) rather than leave it to Discord's default."""
    extras: dict[str, Any] = {}
    if reply is not None:
        extras["embed"] = reply.embed
        if reply.view is not None:
            extras["view"] = reply.view
    text = render.truncate(content, render.MAX_MESSAGE) if content else None
    return await message.reply(text, mention_author=False, **extras)


__all__ = ["Reply", "reply_to_message", "respond"]
