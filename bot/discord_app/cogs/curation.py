"""`/qa`: moderators curate their own server's answers from Discord.

A thin face on `bot.core.curation.CurationService`, where every rule lives (limits, verbatim
excerpts, versions, scopes, import validation). This module only gathers what Discord gives
(who, which server, what they typed) and shows the result privately.

Access, twice over: the group carries `default_member_permissions` = Manage Messages and is
guild-only (what Discord shows: low enough that a moderator role usually sees it, since members
who may only use the configured role must be able to see the command), and `interaction_check`
checks every use: Manage Server, or the server's configured moderator role; `/qa config` stays
Manage Server only. A server changes who sees /qa under Server Settings -> Integrations.
"""

from __future__ import annotations

import io
import logging
from typing import TYPE_CHECKING, cast

import discord
from discord import app_commands
from discord.ext import commands
from discord.utils import MISSING

from bot.core.curation import CurationService, ImportInvalid, describe_history, draft_of, import_size_problem
from bot.core.models import Scope
from bot.core.store import EntryNotFound, ReadOnlyScope, StoredEntry, StoreError
from bot.discord_app import render
from bot.discord_app.curation_views import (
    ConfirmRemoveView,
    EntryModal,
    GapsView,
    ListPager,
    code,
    entry_summary_embed,
    gaps_embed,
    history_embed,
    is_curator,
    preview_embed,
    require_curator,
    stats_embed,
)
from bot.discord_app.errors import problems_text, tell

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

log = logging.getLogger(__name__)

#: Longest entry id (see `bot.core.models`); longer option values cannot name an entry.
MAX_ID_CHARS = 64
MAX_QUERY_CHARS = 100
MAX_REPORT_DAYS = 3650
#: How many gap groups the report lists.
GAP_LIST_SIZE = 10


def _bot(interaction: discord.Interaction) -> MeetingBot:
    return cast("MeetingBot", interaction.client)


class QaTooFast(app_commands.CheckFailure):
    """Over a member's or a server's budget of /qa commands; the message says how long to wait."""


async def _autocomplete_budget(interaction: discord.Interaction) -> bool:
    """discord.py answers an autocomplete whose check fails with no choices (cheaply)."""
    return _bot(interaction).qa_autocomplete.allow(interaction)


#: On every /qa autocomplete: a member's and a server's budget (one shared by all of them).
qa_autocomplete_budget = app_commands.check(_autocomplete_budget)


async def _entry_choices(
    interaction: discord.Interaction, current: str, *, include_removed: bool
) -> list[app_commands.Choice[str]]:
    """This server's entry ids (never another server's, never the base); curators only."""
    guild_id = interaction.guild_id
    try:
        if guild_id is None or not await is_curator(interaction):
            return []
    except StoreError:  # the database is busy or unavailable: no suggestions, no traceback
        return []
    pairs = await _bot(interaction).curation.entry_ids_for_autocomplete(
        guild_id, current, render.MAX_CHOICES, include_removed=include_removed
    )
    return [app_commands.Choice(name=render.choice_name(label), value=entry_id) for entry_id, label in pairs]


@qa_autocomplete_budget
async def entry_id_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    return await _entry_choices(interaction, current, include_removed=False)


@qa_autocomplete_budget
async def any_entry_id_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Removed entries too: their history can be read and they can be reverted."""
    return await _entry_choices(interaction, current, include_removed=True)


@qa_autocomplete_budget
async def version_autocomplete(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[int]]:
    """The versions of the entry named in the `id` option, newest first."""
    guild_id = interaction.guild_id
    entry_id = str(getattr(interaction.namespace, "id", "") or "")
    if guild_id is None or not entry_id or not await is_curator(interaction):
        return []
    versions = await _bot(interaction).assistant.store.history(guild_id, entry_id)
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

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        """Every /qa use: in a server, by a curator (`/qa config`: by a Manage Server member)."""
        command = interaction.command
        budget = self.bot.qa_commands
        wait = budget.member_wait(interaction)
        if wait:
            raise QaTooFast(f"You're using /qa quickly; please wait {max(1, round(wait))} s and try again.")
        await require_curator(interaction, manage_server=command is not None and command.name == "config")
        wait = budget.server_wait(interaction)
        if wait:
            raise QaTooFast(
                "This server's moderators are using /qa a lot right now; "
                f"please wait {max(1, round(wait))} s and try again."
            )
        return True

    # ---- helpers ----------------------------------------------------------------------------

    @staticmethod
    def _guild(interaction: discord.Interaction) -> int:
        assert interaction.guild_id is not None  # interaction_check refused DMs
        return interaction.guild_id

    async def _live_entry(self, scope: Scope, entry_id: str) -> StoredEntry:
        stored = await self.curation.get(scope, entry_id, include_deleted=True)
        if stored is None:
            if entry_id in self.curation.base_ids:
                raise ReadOnlyScope(
                    f"{code(entry_id)} belongs to the curated knowledge base, which is read-only from "
                    "Discord (it changes only through the knowledge files). Add a server entry instead."
                )
            raise EntryNotFound(entry_id, f"This server has no entry {code(entry_id)}; see /qa list.")
        if stored.deleted:
            raise EntryNotFound(
                entry_id,
                f"{code(entry_id)} was removed. Restore it with /qa revert "
                "(see /qa history for its versions).",
            )
        return stored

    @staticmethod
    async def _say(
        interaction: discord.Interaction,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        view: discord.ui.View | None = None,
    ) -> None:
        """A private reply (or follow-up, if deferred) that pings nobody."""
        text = render.truncate(content, render.MAX_MESSAGE) if content is not None else None
        if interaction.response.is_done():
            await interaction.followup.send(
                text or MISSING,
                embed=embed if embed is not None else MISSING,
                view=view if view is not None else MISSING,
                ephemeral=True,
                allowed_mentions=render.NO_PINGS,
            )
        else:
            await interaction.response.send_message(
                text,
                embed=embed if embed is not None else MISSING,
                view=view if view is not None else MISSING,
                ephemeral=True,
                allowed_mentions=render.NO_PINGS,
            )

    # ---- writing ----------------------------------------------------------------------------

    @app_commands.command(name="add", description="Add an answer for this server (opens a form)")
    async def add(self, interaction: discord.Interaction) -> None:
        guild_id = self._guild(interaction)
        count = await self.curation.count(guild_id)
        if count >= self.curation.max_entries:
            await tell(
                interaction,
                f"This server has {count} entries; the limit is {self.curation.max_entries}. "
                "Remove one with /qa remove before adding another.",
            )
            return
        await interaction.response.send_modal(EntryModal.for_add(guild_id=guild_id))

    @app_commands.command(name="edit", description="Edit one of this server's answers (opens a form)")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to edit")
    @app_commands.autocomplete(entry_id=entry_id_autocomplete)
    async def edit(
        self, interaction: discord.Interaction, entry_id: app_commands.Range[str, 1, MAX_ID_CHARS]
    ) -> None:
        guild_id = self._guild(interaction)
        stored = await self._live_entry(guild_id, entry_id.strip())
        modal = EntryModal.for_edit(stored.id, draft_of(stored), stored.version, guild_id=guild_id)
        await interaction.response.send_modal(modal)

    @app_commands.command(
        name="remove", description="Remove one of this server's answers (kept in its history)"
    )
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry to remove")
    @app_commands.autocomplete(entry_id=entry_id_autocomplete)
    async def remove(
        self, interaction: discord.Interaction, entry_id: app_commands.Range[str, 1, MAX_ID_CHARS]
    ) -> None:
        guild_id = self._guild(interaction)
        stored = await self._live_entry(guild_id, entry_id.strip())
        await self._say(
            interaction,
            f"Remove {code(stored.id)}? It stops answering in this server at once; "
            "its history is kept and /qa revert can restore it.",
            embed=entry_summary_embed(stored, stored.id),
            view=ConfirmRemoveView(interaction.user.id, guild_id, stored),
        )

    @app_commands.command(name="revert", description="Make an earlier version of an entry current again")
    @app_commands.rename(entry_id="id")
    @app_commands.describe(entry_id="The entry", version="The version to bring back (see /qa history)")
    @app_commands.autocomplete(entry_id=any_entry_id_autocomplete)
    @app_commands.autocomplete(version=version_autocomplete)
    async def revert(
        self,
        interaction: discord.Interaction,
        entry_id: app_commands.Range[str, 1, MAX_ID_CHARS],
        version: app_commands.Range[int, 1, None],
    ) -> None:
        guild_id = self._guild(interaction)
        entry_id = entry_id.strip()
        before = await self.curation.get(guild_id, entry_id, include_deleted=True)
        if before is None:
            await self._live_entry(guild_id, entry_id)  # raises: unknown here, or a base entry
        stored = await self.curation.revert(guild_id, entry_id, version, interaction.user.id)
        if before is not None and stored.version == before.version:
            await self._say(
                interaction,
                f"{code(entry_id)} already has the content of version {version}; nothing changed.",
            )
        elif stored.deleted:
            await self._say(
                interaction,
                f"{code(entry_id)} is removed again, as in version {version} (now version {stored.version}); "
                "it no longer answers here.",
            )
        else:
            await self._say(
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
    async def history(
        self, interaction: discord.Interaction, entry_id: app_commands.Range[str, 1, MAX_ID_CHARS]
    ) -> None:
        guild_id = self._guild(interaction)
        entry_id = entry_id.strip()
        if await self.curation.get(guild_id, entry_id, include_deleted=True) is None:
            await self._live_entry(guild_id, entry_id)  # raises: unknown here, or a base entry
        versions = await self.curation.history(guild_id, entry_id)
        await self._say(interaction, embed=history_embed(entry_id, versions))

    @app_commands.command(name="list", description="This server's answers, page by page")
    @app_commands.describe(query="Only entries matching this (id, phrasing or answer)")
    async def list_(
        self,
        interaction: discord.Interaction,
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
            await self._say(interaction, text)
            return
        heading = "This server's answers"
        if query:
            heading += f" matching \u201c{' '.join(query.split())}\u201d"
        pager = ListPager(interaction.user.id, entries, heading, guild_id=guild_id)
        await self._say(interaction, embed=pager.embed(), view=pager if pager.pages > 1 else None)

    @app_commands.command(name="export", description="Download this server's answers as a YAML file")
    async def export(self, interaction: discord.Interaction) -> None:
        guild_id = self._guild(interaction)
        text = await self.curation.export_yaml(guild_id)
        count = await self.curation.count(guild_id)
        file = discord.File(io.BytesIO(text.encode("utf-8")), filename=f"qa-{guild_id}.yaml")
        await interaction.response.send_message(
            f"{count} entr{'ies' if count != 1 else 'y'} of this server, in the format of the knowledge "
            "files. Edit and load it back with /qa import (here or in another server).",
            file=file,
            ephemeral=True,
            allowed_mentions=render.NO_PINGS,
        )

    @app_commands.command(name="import", description="Add or update this server's answers from a YAML file")
    @app_commands.describe(file="A YAML file like the one /qa export gives (all entries or none are applied)")
    async def import_(self, interaction: discord.Interaction, file: discord.Attachment) -> None:
        guild_id = self._guild(interaction)
        too_big = import_size_problem(file.size)
        if too_big is not None:
            # Refused before downloading a byte.
            await tell(interaction, f"Nothing was imported: {too_big}")
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        try:
            data = await file.read()
        except discord.HTTPException as exc:
            log.warning("could not download import file %s: %s", file.url, exc)
            await tell(interaction, "Nothing was imported: I could not download the file. Please try again.")
            return
        try:
            result = await self.curation.import_yaml(guild_id, data, interaction.user.id)
        except ImportInvalid as exc:
            count = len(exc.problems)
            heading = (
                f"Nothing was imported: the file has {count} problem{'s' if count != 1 else ''}. "
                "Fix them and import it again; every entry is checked before any is saved."
            )
            await tell(interaction, problems_text(exc.problems, heading))
            return
        await self._say(
            interaction,
            f"Imported {render.escape_user_text(file.filename, 100)}: {result.added} added, "
            f"{result.updated} updated, {result.unchanged} unchanged. They answer in this server now.",
        )

    @app_commands.command(name="gaps", description="What people here ask that I cannot answer yet")
    @app_commands.describe(days="Only questions from the last N days (default: all)")
    async def gaps(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, MAX_REPORT_DAYS] | None = None,
    ) -> None:
        guild_id = self._guild(interaction)
        gaps = await self.curation.gaps(guild_id, days, limit=GAP_LIST_SIZE)
        if not gaps:
            period = f" in the last {days} day(s)" if days else ""
            await self._say(interaction, f"No unanswered questions{period}. \N{PARTY POPPER}")
            return
        await self._say(
            interaction,
            embed=gaps_embed(gaps, days),
            view=GapsView(interaction.user.id, gaps, guild_id=guild_id),
        )

    @app_commands.command(
        name="stats", description="Questions asked here, answered rate, top answers, feedback"
    )
    @app_commands.describe(days="Only the last N days (default: all)")
    async def stats(
        self,
        interaction: discord.Interaction,
        days: app_commands.Range[int, 1, MAX_REPORT_DAYS] | None = None,
    ) -> None:
        report = await self.curation.stats(self._guild(interaction), days)
        await self._say(interaction, embed=stats_embed(report))

    # ---- settings ---------------------------------------------------------------------------

    @app_commands.command(
        name="config", description="Choose the role whose members may curate (Manage Server only)"
    )
    @app_commands.describe(
        moderator_role="Members with this role may use /qa", clear="Forget the moderator role"
    )
    async def config(
        self,
        interaction: discord.Interaction,
        moderator_role: discord.Role | None = None,
        clear: bool = False,
    ) -> None:
        guild_id = self._guild(interaction)
        store = self.bot.assistant.store
        if moderator_role is not None and clear:
            await tell(interaction, "Choose a role or clear it, not both.")
            return
        if moderator_role is not None:
            if moderator_role.is_default():
                await tell(interaction, "Choose a role other than @everyone: every member has that one.")
                return
            await store.set_moderator_role(guild_id, moderator_role.id, interaction.user.id)
            await self._say(
                interaction,
                f"Members with {moderator_role.mention} may now curate this server's answers with /qa "
                "(as may everyone with Manage Server). Discord shows /qa to members with Manage "
                "Messages; if this role lacks that permission, allow it for /qa under Server "
                "Settings \u2192 Integrations.",
            )
            return
        if clear:
            await store.set_moderator_role(guild_id, None, interaction.user.id)
            await self._say(
                interaction, "Moderator role cleared: only members with Manage Server may use /qa now."
            )
            return
        current = await store.get_moderator_role(guild_id)
        fallback = self.bot.settings.moderator_role_id
        if current is not None:
            who = f"members with <@&{current}>"
        elif fallback is not None:
            who = f"members with <@&{fallback}> (the bot's default)"
        else:
            who = "no role yet"
        await self._say(
            interaction,
            f"Who may curate here: members with Manage Server, and {who}. "
            "Set a role with /qa config moderator_role:<role>.",
        )


__all__ = ["CurationCog", "entry_id_autocomplete", "version_autocomplete"]
