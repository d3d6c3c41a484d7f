"""Who may do what, as discord.py checks.

A refused check raises an `app_commands.CheckFailure` whose message says why; the command
tree's error handler (`errors.report`) shows it privately, and so do the views and the modal.

- `/qa`: in a server, within the member's budget (the cog's `interaction_check`); then each
  command's own check: `curators_only` (Manage Server or the server's moderator role, then
  the server's budget), or for `/qa config` discord.py's
  `app_commands.checks.has_permissions(manage_guild=True)` followed by `server_budget`.
  The server's budget comes after the permission check, so members who may not curate cannot
  use it up for those who may.
- A moderator's buttons and forms (`require_owner`, `require_same_server`, `require_curator`):
  only the moderator who opened them, only in the server they were made in, and only while
  that moderator may still curate.
- Autocomplete: a budget per member and per server (`qa_autocomplete_budget`,
  `ask_autocomplete_budget`); discord.py answers one whose check fails with no choices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import discord
from discord import app_commands

from bot.core.permissions import REFUSAL

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

NOT_IN_SERVER: Final = (
    "The /qa commands work only inside a server: each server curates its own answers. "
    "Ask me questions here with /ask or a message."
)
NOT_YOURS: Final = "These buttons belong to the moderator who ran the command; run it yourself to use them."
OTHER_SERVER: Final = (
    "This belongs to another server: buttons and forms act only in the server where the command ran."
)


class NotInServer(app_commands.NoPrivateMessage):
    def __init__(self) -> None:
        super().__init__(NOT_IN_SERVER)


class NotCurator(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(REFUSAL)


class NotYourButtons(app_commands.CheckFailure):
    def __init__(self) -> None:
        super().__init__(NOT_YOURS)


class OtherServer(app_commands.CheckFailure):
    """A button or form replayed in a server other than the one it was made for."""

    def __init__(self) -> None:
        super().__init__(OTHER_SERVER)


class QaTooFast(app_commands.CheckFailure):
    """Over a member's or a server's budget of /qa commands; the message says how long to wait."""


# ---- who may curate ---------------------------------------------------------------------------


def _role_ids(member: discord.Member) -> set[int]:
    # `Member.roles` drops roles missing from the guild cache; the interaction's own role ids
    # (`_roles`) do not, so a moderator is recognised even before the guild is cached.
    return {role.id for role in member.roles} | set(member._roles)


async def is_curator(interaction: discord.Interaction[MeetingBot]) -> bool:
    """Manage Server, or the server's moderator role (the settings' role if it set none).

    `interaction.permissions` are the member's permissions as Discord resolved them in this
    channel (Administrator included), the same ones `has_permissions` reads."""
    member = interaction.user
    if interaction.guild_id is None or not isinstance(member, discord.Member):
        return False
    return await interaction.client.curation.may_curate(
        interaction.guild_id,
        manage_guild=interaction.permissions.manage_guild,
        role_ids=_role_ids(member),
    )


def require_server(interaction: discord.Interaction[MeetingBot]) -> int:
    """The server's id; NotInServer in a DM."""
    if interaction.guild_id is None:
        raise NotInServer()
    return interaction.guild_id


async def require_curator(interaction: discord.Interaction[MeetingBot]) -> int:
    """The server's id if the user may curate it; otherwise NotInServer or NotCurator."""
    guild_id = require_server(interaction)
    if not await is_curator(interaction):
        raise NotCurator()
    return guild_id


def require_owner(interaction: discord.Interaction[MeetingBot], owner_id: int) -> None:
    if interaction.user.id != owner_id:
        raise NotYourButtons()


def require_same_server(interaction: discord.Interaction[MeetingBot], guild_id: int | None) -> None:
    if guild_id is not None and interaction.guild_id != guild_id:
        raise OtherServer()


# ---- budgets ------------------------------------------------------------------------------------


def _wait_seconds(seconds: float) -> int:
    return max(1, round(seconds))


def spend_member_budget(interaction: discord.Interaction[MeetingBot]) -> None:
    """Count one /qa command against the member's budget; QaTooFast when it is spent."""
    wait = interaction.client.qa_commands.member_wait(interaction)
    if wait:
        raise QaTooFast(f"You're using /qa quickly; please wait {_wait_seconds(wait)} s and try again.")


async def _within_server_budget(interaction: discord.Interaction[MeetingBot]) -> bool:
    wait = interaction.client.qa_commands.server_wait(interaction)
    if wait:
        raise QaTooFast(
            "This server's moderators are using /qa a lot right now; "
            f"please wait {_wait_seconds(wait)} s and try again."
        )
    return True


async def _curator_within_budget(interaction: discord.Interaction[MeetingBot]) -> bool:
    await require_curator(interaction)
    return await _within_server_budget(interaction)


#: On a /qa command after its permission check: the server's budget of /qa commands.
server_budget = app_commands.check(_within_server_budget)

#: On every /qa command that curates: a curator (Manage Server or the moderator role), then
#: the server's budget.
curators_only = app_commands.check(_curator_within_budget)


async def _qa_autocomplete_allowed(interaction: discord.Interaction[MeetingBot]) -> bool:
    return interaction.client.qa_autocomplete.allow(interaction)


async def _ask_autocomplete_allowed(interaction: discord.Interaction[MeetingBot]) -> bool:
    return interaction.client.ask_autocomplete.allow(interaction)


#: On every /qa autocomplete: a member's and a server's budget (one shared by all of them).
qa_autocomplete_budget = app_commands.check(_qa_autocomplete_allowed)
#: On the /ask autocomplete: the same, with budgets of its own.
ask_autocomplete_budget = app_commands.check(_ask_autocomplete_allowed)
