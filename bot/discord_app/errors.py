"""What a user sees when something goes wrong: a polite, private message, never silence."""

from __future__ import annotations

import logging

import discord
from discord import app_commands

from bot.core.store import StoreError
from bot.discord_app import render

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong while answering. The error has been logged; please try again."


def cooldown_text(retry_after: float) -> str:
    return f"You're asking quickly! Please wait {max(1, round(retry_after))} s before the next question."


async def tell(interaction: discord.Interaction, text: str) -> None:
    """Send `text` privately, as the response or as a follow-up; losing it only gets logged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True, allowed_mentions=render.NO_PINGS)
        else:
            await interaction.response.send_message(text, ephemeral=True, allowed_mentions=render.NO_PINGS)
    except discord.HTTPException as exc:
        # Typically 10062 Unknown interaction: the 3-second window passed. Nothing more to do.
        log.warning("could not deliver a message to interaction %s: %s", interaction.id, exc)


class MeetingTree(app_commands.CommandTree["discord.Client"]):
    """Command tree whose errors end in a private explanation or apology."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        if isinstance(error, app_commands.CommandOnCooldown):
            await tell(interaction, cooldown_text(error.retry_after))
        elif isinstance(error, app_commands.CheckFailure):
            await tell(interaction, str(error) or "You can't use this command here.")
        elif isinstance(original, StoreError):
            # Store errors carry messages written for users ("busy, try again", "read-only").
            log.warning("store error in /%s: %s", interaction.command and interaction.command.name, original)
            await tell(interaction, str(original))
        else:
            command = interaction.command.qualified_name if interaction.command else "component"
            log.error("error in %s", command, exc_info=original)
            await tell(interaction, APOLOGY)
