"""What a user sees when something goes wrong: a polite, private message, never silence."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands

from bot.core.curation import CurationError
from bot.core.store import StoreBusy, StoreError, StoreFull, StoreReadOnly, StoreUnavailable
from bot.core.wording import human_join, noun, plural
from bot.discord_app import render
from bot.discord_app.replies import respond

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong while answering. The error has been logged; please try again."
#: Longest single problem line in a list of problems (a closest passage can be a paragraph).
MAX_PROBLEM_LINE = 600


def cooldown_text(retry_after: float) -> str:
    return f"You're asking quickly! Please wait {max(1, round(retry_after))} s before the next question."


def problems_text(problems: Sequence[str], heading: str, limit: int = render.MAX_MESSAGE) -> str:
    """A heading and one bullet per problem (escaped, each cut to a sane length), fitted to
    `limit`; problems that do not fit are counted, never silently dropped."""
    bullets = [f"\u2022 {render.escape_user_text(p, MAX_PROBLEM_LINE)}" for p in problems]
    room = limit - len(heading) - 1
    listed = render.fit_lines(
        bullets, room, lambda n: f"{render.ELLIPSIS} {plural(n, 'more problem')} not shown."
    )
    return f"{heading}\n{listed}"


def missing_permissions_text(permissions: Sequence[str], where: str) -> str:
    """The refusal of a command guarded by `app_commands.checks.has_permissions`, naming the
    permissions as Discord's settings do (manage_guild is "Manage Server")."""
    names = [p.replace("_", " ").replace("guild", "server").title() for p in permissions]
    needed = f"{human_join(names)} {noun(len(names), 'permission')}"
    return f"Sorry, only members with the {needed} can use {where}."


def user_message(error: BaseException, where: str) -> str | None:
    """The private explanation of an expected failure; None for a bug (log it and apologise)."""
    if isinstance(error, app_commands.MissingPermissions):
        return missing_permissions_text(error.missing_permissions, where)
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You can't use this command here."
    if isinstance(error, CurationError):
        # Content problems (a draft, an import file): every problem, so all can be fixed at once.
        return problems_text(error.problems, "Nothing was saved:")
    if isinstance(error, StoreError):
        # Store errors carry messages written for users ("busy, try again", "version conflict").
        return str(error)
    return None


async def _tell(interaction: discord.Interaction[Any], text: str) -> None:
    """Say `text` privately; a message Discord no longer accepts (the interaction expired) is
    only logged, since the error path has nobody left to tell."""
    try:
        await respond(interaction, text)
    except discord.HTTPException as exc:
        # Typically 10062 Unknown interaction: the 3-second window passed. Nothing more to do.
        log.warning("could not deliver a message to interaction %s: %s", interaction.id, exc)


async def report(
    interaction: discord.Interaction[Any], error: BaseException, where: str | None = None
) -> None:
    """Explain `error` privately to whoever caused it; log and apologise if it is a bug.

    Used by the command tree, by every view and modal and by the asking path, so a button, a
    form or a suggestion fails the same polite way a command does."""
    original = getattr(error, "original", error)
    if where is None:
        where = f"/{interaction.command.qualified_name}" if interaction.command else "component"
    message = user_message(error, where)
    if message is None:
        message = user_message(original, where)
    if message is None:
        log.error("error in %s", where, exc_info=original)
        await _tell(interaction, APOLOGY)
        return
    if (
        isinstance(original, StoreBusy | StoreReadOnly | StoreFull | StoreUnavailable)
        or type(original) is StoreError
    ):
        # The operator should know about these; a missing id or a stale form is the user's business.
        log.warning("store error in %s: %s", where, original)
    else:
        log.info("%s refused: %s", where, " ".join(str(original).split()))
    await _tell(interaction, message)


class MeetingTree(app_commands.CommandTree["discord.Client"]):
    """Command tree whose errors end in a private explanation or apology."""

    async def on_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        await report(interaction, error)
