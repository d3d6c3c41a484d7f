"""`/qa`: moderators curate their own server's answers from Discord.

A thin face on `bot.core.curation.CurationService`, where every rule lives (limits, verbatim
excerpts, versions, scopes, import validation, who may curate). This module only gathers what
Discord gives (who, which server, what they typed) and shows the result privately.

Access, twice over: the group carries `default_member_permissions` = Manage Messages and is
guild-only (what Discord shows: low enough that a moderator role usually sees it, since members
who may only use the configured role must be able to see the command), and every use is
checked (`bot.discord_app.checks`): in a server and within the member's budget, then Manage
Server or the server's configured moderator role (`curators_only`); `/qa config` needs Manage
Server. A server changes who sees /qa under Server Settings -> Integrations.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.curation import CurationService, ImportInvalid, describe_history, draft_of, import_size_problem
from bot.core.store import StoreError
from bot.core.wording import plural
from bot.discord_app import render
from bot.discord_app.checks import (
    curators_only,
    is_curator,
    qa_autocomplete_budget,
    require_server,
    server_budget,
    spend_member_budget,
)
from bot.discord_app.curation_views import (
    ConfirmRemoveView,
    EntryModal,
    GapsView,
    ListPager,
    code,
    entry_summary_embed,
    gaps_embed,
    history_embed,
    preview_embed,
    stats_embed,
)
from bot.discord_app.errors import problems_text
from bot.discord_app.replies import respond

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

log = logging.getLogger(__name__)

#: Longest entry id (see `bot.core.models`); longer option values cannot name an entry.
MAX_ID_CHARS = 64
MAX_QUERY_CHARS = 100
MAX_REPORT_DAYS = 3650
#: How many gap groups the report lists.
GAP_LIST_SIZE = 10


async def _entry_choices(
    interaction: discord.Interaction[MeetingBot], current: str, *, include_removed: bool
) -> list[app_commands.Choice[str]]:
    """This server's entry ids (never another server's, never the base); curators only."""
    guild_id = interaction.guild_id
    try:
        if guild_id is None or not await is_curator(interaction):
            return []
    except StoreError:  # the database is busy or unavailable: no suggestions, no traceback
        return []
    pairs = await interaction.client.curation.entry_ids_for_autocomplete(
        guild_id, current, render.MAX_CHOICES, include_removed=include_removed
    )
    return [app_commands.Choice(name=render.choice_name(label), value=entry_id) for entry_id, label in pairs]


@qa_autocomplete_budget
async def entry_id_autocomplete(
    interaction: discord.Interaction[MeetingBot], current: str
) -> list[app_commands.Choice[str]]:
    return await _entry_choices(interaction, current, include_removed=False)


@qa_autocomplete_budget
async def any_entry_id_autocomplete(
    interaction: discord.Interaction[MeetingBot], current: str
) -> list[app_commands.Choice[str]]:
    """Removed entries too: their history can be read and they can be reverted."""
    return await _entry_choices(interaction, current, include_removed=True)


@qa_autocomplete_budget
async def version_autocomplete(
    interaction: discord.Interaction[MeetingBot], current: str
) -> list[app_commands.Choice[int]]:
    """The versions of the entry named in the `id` option, newest first."""
    guild_id = interaction.guild_id
    entry_id = str(getattr(interaction.namespace, "id", "") or "")
    try:
        if guild_id is None or not entry_id or not await is_curator(interaction):
            return []
        versions = await interaction.client.curation.history(guild_id, entry_id)
    except StoreError:  # no such entry here, or the database is busy: no suggestions
        return []
    changes = describe_history(versions)
    typed = str(current).strip()
    choices: list[app_commands.Choice[int]] = []
    for version, change in reversed(list(zip(versions, changes, strict=True))):
        if typed and not str(version.version).startswith(typed):
            continue
        when = version.at.strftime("%Y-%m-%d %H:%M UTC")
        name = render.choice_name(f"v{version.version} \u00b7 {when} \u00b7 {change}")
        choices.append(app_commands.Choice(name=name, value=version.version))
    return choices[: render.MAX_CHOICES]


@app_commands.guild_only()
@app_commands.default_permissions(manage_messages=True)
class CurationCog(
    commands.GroupCog, group_name="qa", group_description="Moderators: curate this server's answers"
):
    def __init__(self, bot: MeetingBot) -> None:
        self.bot = bot
        super().__init__()

    @property
    def curation(self) -> CurationService:
        return self.bot.curation

    async def interaction_check(self, interaction: discord.Interaction[MeetingBot], /) -> bool:  # type: ignore[override]
        """Every /qa use: in a server, within the member's budget; each command then checks
        who may use it (see `bot.discord_app.checks`)."""
        require_server(interaction)
        spend_member_budget(interaction)
        return True

    @staticmethod
    def _guild(interaction: discord.Interaction[MeetingBot]) -> int:
        assert interaction.guild_id is not None  # interaction_check refused DMs
        return interaction.guild_id

    # ---- writing ----------------------------------------------------------------------------

    @app_commands.command(name="add", description="Add an answer for this server (opens a form)")
    @curators_only
    async def add(self, interaction: discord.Interaction[MeetingBot]) -> None:
        guild_id = self._guild(interaction)
        await self.curation.require_room(guild_id)
        await interaction.response.send_modal(EntryModal.for_add(interaction))

    @app_commands.command(name="edit", description="Edit one of this server's answers (opens a form)")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to edit")
    @app_commands.autocomplete(entry_id=entry_id_autocomplete)
    @curators_only
    async def edit(
        self, interaction: discord.Interaction[MeetingBot], entry_id: app_commands.Range[str, 1, MAX_ID_CHARS]
    ) -> None:
        guild_id = self._guild(interaction)
        stored = await self.curation.live_entry(guild_id, entry_id.strip())
        modal = EntryModal.for_edit(interaction, stored.id, draft_of(stored), stored.version)
        await interaction.response.send_modal(modal)

    @app_commands.command(
        name="remove", description="Remove one of this server's answers (kept in its history)"
    )
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to remove")
    @app_commands.autocomplete(entry_id=entry_id_autocomplete)
    @curators_only
    async def remove(
        self, interaction: discord.Interaction[MeetingBot], entry_id: app_commands.Range[str, 1, MAX_ID_CHARS]
    ) -> None:
        guild_id = self._guild(interaction)
        stored = await self.curation.live_entry(guild_id, entry_id.strip())
        await respond(
            interaction,
            f"Remove {code(stored.id)}? It stops answering in this server at once; "
            "its history is kept and /qa revert can restore it.",
            embed=entry_summary_embed(stored, stored.id),
            view=ConfirmRemoveView(interaction, guild_id, stored),
        )

    @app_commands.command(name="revert", description="Make an earlier version of an entry current again")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry", version="The version to bring back (see /qa history)")
    @app_commands.autocomplete(entry_id=any_entry_id_autocomplete)
    @app_commands.autocomplete(version=version_autocomplete)
    @curators_only
    async def revert(
        self,
        interaction: discord.Interaction[MeetingBot],
        entry_id: app_commands.Range[str, 1, MAX_ID_CHARS],
        version: app_commands.Range[int, 1, None],
    ) -> None:
        guild_id = self._guild(interaction)
        entry_id = entry_id.strip()
        latest = (await self.curation.history(guild_id, entry_id))[-1].version
        stored = await self.curation.revert(guild_id, entry_id, version, interaction.user.id)
        if stored.version == latest:
            await respond(
                interaction,
                f"{code(entry_id)} already has the content of version {version}; nothing changed.",
            )
        elif stored.deleted:
            await respond(
                interaction,
                f"{code(entry_id)} is removed again, as in version {version} (now version {stored.version}); "
                "it no longer answers here.",
            )
        else:
            await respond(
                interaction,
                f"{code(entry_id)} has the content of version {version} again (now version {stored.version}) "
                "and answers with it in this server:",
                embed=preview_embed(self.bot, guild_id, stored),
            )

    # ---- reading ----------------------------------------------------------------------------

    @app_commands.command(name="history", description="Every version of an entry: who, when, what changed")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry")
    @app_commands.autocomplete(entry_id=any_entry_id_autocomplete)
    @curators_only
    async def history(
        self, interaction: discord.Interaction[MeetingBot], entry_id: app_commands.Range[str, 1, MAX_ID_CHARS]
    ) -> None:
        entry_id = entry_id.strip()
        versions = await self.curation.history(self._guild(interaction), entry_id)
        await respond(interaction, embed=history_embed(entry_id, versions))

    @app_commands.command(name="list", description="This server's answers, page by page")
    @app_commands.describe(query="Only entries matching this (id, phrasing or answer)")
    @curators_only
    async def list_(
        self,
        interaction: discord.Interaction[MeetingBot],
        query: app_commands.Range[str, 1, MAX_QUERY_CHARS] | None = None,
    ) -> None:
        guild_id = self._guild(interaction)
        entries = await self.curation.list_entries(guild_id, query)
        if not entries:
            if query:
                shown = render.escape_user_text(query, MAX_QUERY_CHARS)
                text = f"No entry of this server matches \u201c{shown}\u201d."
            else:
                text = "This server has no entries of its own yet. Add one with /qa add."
            await respond(interaction, text)
            return
        heading = "This server's answers"
        if query:
            heading += f" matching \u201c{' '.join(query.split())}\u201d"
        pager = ListPager(interaction, entries, heading)
        await respond(interaction, embed=pager.embed(), view=pager if pager.pages > 1 else None)

    @app_commands.command(name="export", description="Download this server's answers as a YAML file")
    @curators_only
    async def export(self, interaction: discord.Interaction[MeetingBot]) -> None:
        guild_id = self._guild(interaction)
        exported = await self.curation.export(guild_id)
        file = discord.File(io.BytesIO(exported.text.encode("utf-8")), filename=f"qa-{guild_id}.yaml")
        await respond(
            interaction,
            f"{plural(exported.count, 'entry')} of this server, in the format of the knowledge files. "
            "Edit and load it back with /qa import (here or in another server).",
            file=file,
        )

    @app_commands.command(name="import", description="Add or update this server's answers from a YAML file")
    @app_commands.describe(file="A YAML file like the one /qa export gives (all entries or none are applied)")
    @curators_only
    async def import_(self, interaction: discord.Interaction[MeetingBot], file: discord.Attachment) -> None:
        guild_id = self._guild(interaction)
        too_big = import_size_problem(file.size)
        if too_big is not None:
            # Refused before downloading a byte.
            await respond(interaction, f"Nothing was imported: {too_big}")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as exc:
            log.warning("could not download import file %s: %s", file.url, exc)
            await respond(
                interaction, "Nothing was imported: I could not download the file. Please try again."
            )
            return
        try:
            result = await self.curation.import_yaml(guild_id, data, interaction.user.id)
        except ImportInvalid as exc:
            heading = (
                f"Nothing was imported: the file has {plural(len(exc.problems), 'problem')}. "
                "Fix them and import it again; every entry is checked before any is saved."
            )
            await respond(interaction, problems_text(exc.problems, heading))
            return
        await respond(
            interaction,
            f"Imported {render.escape_user_text(file.filename, 100)}: {result.added} added, "
            f"{result.updated} updated, {result.unchanged} unchanged. They answer in this server now.",
        )

    @app_commands.command(name="gaps", description="What people here ask that I cannot answer yet")
    @app_commands.describe(days="Only questions from the last N days (default: all)")
    @curators_only
    async def gaps(
        self,
        interaction: discord.Interaction[MeetingBot],
        days: app_commands.Range[int, 1, MAX_REPORT_DAYS] | None = None,
    ) -> None:
        guild_id = self._guild(interaction)
        gaps = await self.curation.gaps(guild_id, days, limit=GAP_LIST_SIZE)
        if not gaps:
            period = f" in the last {plural(days, 'day')}" if days else ""
            await respond(interaction, f"No unanswered questions{period}. \N{PARTY POPPER}")
            return
        await respond(
            interaction,
            embed=gaps_embed(gaps, days),
            view=GapsView(interaction, gaps),
        )

    @app_commands.command(
        name="stats", description="Questions asked here, answered rate, top answers, feedback"
    )
    @app_commands.describe(days="Only the last N days (default: all)")
    @curators_only
    async def stats(
        self,
        interaction: discord.Interaction[MeetingBot],
        days: app_commands.Range[int, 1, MAX_REPORT_DAYS] | None = None,
    ) -> None:
        report = await self.curation.stats(self._guild(interaction), days)
        await respond(interaction, embed=stats_embed(report))

    # ---- settings ---------------------------------------------------------------------------

    @app_commands.command(
        name="config", description="Choose the role whose members may curate (Manage Server only)"
    )
    @app_commands.describe(
        moderator_role="Members with this role may use /qa", clear="Forget the moderator role"
    )
    @server_budget
    @app_commands.checks.has_permissions(manage_guild=True)  # checked first: the lowest decorator
    async def config(
        self,
        interaction: discord.Interaction[MeetingBot],
        moderator_role: discord.Role | None = None,
        clear: bool = False,
    ) -> None:
        guild_id = self._guild(interaction)
        if moderator_role is not None and clear:
            await respond(interaction, "Choose a role or clear it, not both.")
            return
        if moderator_role is not None:
            if moderator_role.is_default():
                await respond(interaction, "Choose a role other than @everyone: every member has that one.")
                return
            await self.curation.set_moderator_role(guild_id, moderator_role.id, interaction.user.id)
            await respond(
                interaction,
                f"Members with {moderator_role.mention} may now curate this server's answers with /qa "
                "(as may everyone with Manage Server). Discord shows /qa to members with Manage "
                "Messages; if this role lacks that permission, allow it for /qa under Server "
                "Settings \u2192 Integrations.",
            )
            return
        if clear:
            await self.curation.set_moderator_role(guild_id, None, interaction.user.id)
            await respond(
                interaction, "Moderator role cleared: only members with Manage Server may use /qa now."
            )
            return
        current = await self.curation.moderator_role(guild_id)
        fallback = self.bot.settings.moderator_role_id
        if current is not None:
            who = f"members with <@&{current}>"
        elif fallback is not None:
            who = f"members with <@&{fallback}> (the bot's default)"
        else:
            who = "no role yet"
        await respond(
            interaction,
            f"Who may curate here: members with Manage Server, and {who}. "
            "Set a role with /qa config moderator_role:<role>.",
        )


__all__ = ["CurationCog", "entry_id_autocomplete", "version_autocomplete"]
