"""The Discord client: intents, start-up and command sync. Features live in `cogs/`."""

from __future__ import annotations

import logging

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.core.assistant import Assistant
from bot.core.curation import CurationService
from bot.core.limits import (
    ASK_AUTOCOMPLETE_PER_SERVER,
    ASK_AUTOCOMPLETE_PER_USER,
    QA_AUTOCOMPLETE_PER_MEMBER,
    QA_AUTOCOMPLETE_PER_SERVER,
    QA_COMMANDS_PER_MEMBER,
    QA_COMMANDS_PER_SERVER,
)
from bot.core.models import Source
from bot.core.wording import plural
from bot.discord_app import render, stale
from bot.discord_app.errors import MeetingTree
from bot.discord_app.guards import FairShare, QuestionLimiter, RecentAnswers
from bot.discord_app.identify import IdentifyGate, bucket_locks
from bot.discord_app.live_components import LiveComponents
from bot.discord_app.views import FEEDBACK_ID, SUGGESTION_ID, FeedbackButton, SuggestionSelect
from bot.settings import Settings
from bot.sharding import ShardPlan

log = logging.getLogger(__name__)


def bot_intents() -> discord.Intents:
    """Only non-privileged intents: DMs and messages that mention the bot arrive with content
    anyway, so the bot never needs the message-content intent."""
    return discord.Intents(guilds=True, guild_messages=True, dm_messages=True)


class MeetingBot(commands.AutoShardedBot):
    """Runs the shards of `settings.shard_plan()`; with none set, as many as Discord recommends."""

    def __init__(
        self, assistant: Assistant, settings: Settings, *, sync_on_start: bool = True, **options: object
    ) -> None:
        self.shard_plan = settings.shard_plan()
        if self.shard_plan.ids is not None:
            options["shard_ids"] = list(self.shard_plan.ids)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            help_command=None,
            tree_cls=MeetingTree,
            allowed_mentions=render.NO_PINGS,
            shard_count=self.shard_plan.count,
            **options,  # type: ignore[arg-type]
        )
        self.identify_gate = IdentifyGate(bucket_locks(settings.database), self._max_concurrency)
        self.assistant = assistant
        self.settings = settings
        self.curation = CurationService(assistant, max_entries_per_guild=settings.max_entries_per_guild)
        self.sync_on_start = sync_on_start
        self.limiter = QuestionLimiter(settings.cooldown_rate, settings.cooldown_per_seconds)
        self.recent = RecentAnswers(settings.duplicate_window_seconds)
        # Fair sharing between servers (see guards.FairShare; the numbers are in core.limits).
        self.qa_commands = FairShare(QA_COMMANDS_PER_MEMBER, QA_COMMANDS_PER_SERVER)
        self.qa_autocomplete = FairShare(QA_AUTOCOMPLETE_PER_MEMBER, QA_AUTOCOMPLETE_PER_SERVER)
        self.ask_autocomplete = FairShare(ASK_AUTOCOMPLETE_PER_USER, ASK_AUTOCOMPLETE_PER_SERVER)
        #: The buttons and forms this client listens for (see `stale`).
        self.live_components = LiveComponents()

    @property
    def primary_source(self) -> Source | None:
        return next(iter(self.assistant.kb.sources.values()), None)

    async def setup_hook(self) -> None:
        from bot.discord_app.cogs.ask import AskCog
        from bot.discord_app.cogs.curation import CurationCog

        self.add_dynamic_items(FeedbackButton, SuggestionSelect)
        self.live_components.listen_for(FEEDBACK_ID, SUGGESTION_ID)
        await self.add_cog(AskCog(self))
        await self.add_cog(CurationCog(self))
        if self.sync_on_start and self.shard_plan.runs_shard_zero:
            await self.sync_commands(self.settings.dev_guild_id)
        elif self.sync_on_start:
            log.info("commands are synced by the process that runs shard 0")

    async def sync_commands(self, guild_id: int | None) -> list[app_commands.AppCommand]:
        """Sync to one server (instant, for development) or globally (may take up to an hour)."""
        if guild_id is not None:
            guild = discord.Object(guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), guild_id)
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally", len(synced))
        return synced

    async def _max_concurrency(self) -> int:
        try:
            return (await self.fetch_session_start_limits()).max_concurrency
        except (discord.DiscordException, aiohttp.ClientError, OSError) as exc:
            # One identify at a time is always allowed.
            log.warning("could not read max_concurrency from Discord (%s); using 1", type(exc).__name__)
            return 1

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        # Replaces discord.py's in-process 5 s sleep with a lock every process sees.
        await self.identify_gate.wait_turn(shard_id)

    async def close(self) -> None:
        try:
            await super().close()
        finally:
            await self.identify_gate.close()

    def dispatch(self, event_name: str, /, *args: object, **kwargs: object) -> None:
        # discord.py dispatches "interaction" right after handing it to the view store, before
        # any handler runs: the moment to note whether anything claimed it (a view stopped by
        # its own click is stopped only later, in the handler).
        if event_name == "interaction" and args and isinstance(args[0], discord.Interaction):
            stale.mark_unclaimed(self, args[0])
        super().dispatch(event_name, *args, **kwargs)

    async def on_interaction(self, interaction: discord.Interaction, /) -> None:
        await stale.answer_unclaimed(interaction)

    async def on_message(self, message: discord.Message, /) -> None:
        # No text commands: questions in messages are handled by the ask cog's listener.
        return

    async def on_ready(self) -> None:
        log.info(
            "connected as %s (id %s) to %s on shards %s",
            self.user,
            self.user and self.user.id,
            plural(len(self.guilds), "server"),
            ShardPlan(self.shard_count, tuple(self.shards)).label,
        )

    async def on_shard_ready(self, shard_id: int) -> None:
        servers = sum(1 for guild in self.guilds if guild.shard_id == shard_id)
        log.info("shard %d ready with %s", shard_id, plural(servers, "server"))

    async def on_shard_disconnect(self, shard_id: int) -> None:
        log.info("shard %d disconnected", shard_id)

    async def on_shard_resumed(self, shard_id: int) -> None:
        log.info("shard %d resumed", shard_id)
