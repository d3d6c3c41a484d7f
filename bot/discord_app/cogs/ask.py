"""Asking: /ask, /quote, /about, the "Ask the bot" message menu, DMs and mentions.

Every entry point funnels into the same path: rate limit, answer, render, reply without pings.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.assistant import AskResult
from bot.core.limits import MAX_ASK_OPTION_CHARS
from bot.core.models import Scope
from bot.discord_app import render
from bot.discord_app.errors import APOLOGY, cooldown_text
from bot.discord_app.replies import Reply, build_reply, reply_to_message, send_interaction

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

log = logging.getLogger(__name__)

#: Past this, a still-running answer is deferred so Discord's 3-second deadline is never missed.
DEFER_AFTER_SECONDS = 1.5
HELP_TEXT = (
    "Ask me about the U.S.\u2013Japan \u201c2+2\u201d meeting of January 11, 2023: "
    "for example \u201cWho attended?\u201d. Try `/ask`, `/quote` or `/about`."
)


def _ask_autocomplete_budget(interaction: discord.Interaction) -> bool:
    bot: MeetingBot = interaction.client  # type: ignore[assignment]
    return bot.ask_autocomplete.allow(interaction)


class AskCog(commands.Cog):
    def __init__(self, bot: MeetingBot) -> None:
        self.bot = bot
        self.ask_menu = app_commands.ContextMenu(name="Ask the bot", callback=self.ask_message)
        bot.tree.add_command(self.ask_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.ask_menu.name, type=self.ask_menu.type)

    # ---- shared answering path ------------------------------------------------------------
    async def _ask_in_time(
        self, interaction: discord.Interaction, question: str, *, ephemeral: bool
    ) -> AskResult:
        task = asyncio.ensure_future(
            self.bot.assistant.ask(
                question, interaction.guild_id, channel_id=interaction.channel_id, user_id=interaction.user.id
            )
        )
        done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER_SECONDS)
        if not done:
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
        return await task

    def _check_rate(self, user_id: int) -> None:
        bucket = self.bot.limiter.hit(user_id)
        if bucket is not None:
            raise app_commands.CommandOnCooldown(bucket, bucket.get_retry_after())

    async def answer_interaction(
        self, interaction: discord.Interaction, question: str, *, private: bool
    ) -> None:
        self._check_rate(interaction.user.id)
        channel_id = interaction.channel_id
        if not private and channel_id is not None:
            seen, link = self.bot.recent.recent(channel_id, question)
            if seen:
                where = f": {link}" if link else " just above."
                await interaction.response.send_message(
                    f"I answered that in this channel a moment ago{where}",
                    ephemeral=True,
                    allowed_mentions=render.NO_PINGS,
                )
                return
        result = await self._ask_in_time(interaction, question, ephemeral=private)
        reply = build_reply(result.answer, result.question_id, interaction.guild_id, self.bot.primary_source)
        sent = await send_interaction(interaction, reply, ephemeral=private)
        if not private and channel_id is not None:
            self.bot.recent.remember(channel_id, question, sent.jump_url if sent else None)

    # ---- /ask -----------------------------------------------------------------------------
    @app_commands.command(
        name="ask", description="Ask about the U.S.\u2013Japan 2+2 meeting of January 11, 2023"
    )
    @app_commands.describe(
        question="Your question, e.g. Who attended the meeting?",
        private="Only you see the answer (default: everyone in the channel)",
    )
    async def ask(
        self,
        interaction: discord.Interaction,
        question: app_commands.Range[str, 1, MAX_ASK_OPTION_CHARS],
        private: bool = False,
    ) -> None:
        await self.answer_interaction(interaction, question, private=private)

    @ask.autocomplete("question")
    @app_commands.check(lambda interaction: _ask_autocomplete_budget(interaction))
    async def ask_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        questions = self.bot.assistant.service.autocomplete(current, interaction.guild_id, render.MAX_CHOICES)
        choices: list[app_commands.Choice[str]] = []
        for q in questions:
            name = render.choice_name(q)
            choices.append(app_commands.Choice(name=name, value=name[: render.MAX_CHOICE_VALUE]))
        return choices[: render.MAX_CHOICES]

    # ---- message menu -----------------------------------------------------------------------
    async def ask_message(self, interaction: discord.Interaction, message: discord.Message) -> None:
        question = message.content.strip()
        if not question:
            await interaction.response.send_message(
                "That message has no text I can read as a question.", ephemeral=True
            )
            return
        await self.answer_interaction(interaction, question, private=False)

    # ---- /quote -----------------------------------------------------------------------------
    @app_commands.command(name="quote", description="Quotations from the meeting, by speaker and topic")
    @app_commands.describe(speaker="Who said it", topic="What it was about, e.g. Putin, sanctions, Asia")
    async def quote(
        self,
        interaction: discord.Interaction,
        speaker: app_commands.Range[str, 1, 100] | None = None,
        topic: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        service = self.bot.assistant.service
        speaker_id = service.resolve_speaker(speaker) if speaker else None
        if speaker and speaker_id is None:
            names = ", ".join(e.name for e in service.speakers())
            who = render.escape_user_text(speaker, 100)
            await interaction.response.send_message(
                f"I have no quotations from {who}. Speakers I can quote: {names}.",
                ephemeral=True,
                allowed_mentions=render.NO_PINGS,
            )
            return
        quotes = service.find_quotes(speaker_id, topic, limit=render.MAX_FIELDS)
        if not quotes:
            await interaction.response.send_message(
                "No quotation matches that. Try another topic, or leave the topic empty.", ephemeral=True
            )
            return
        speaker_names = {e.id: e.name for e in service.lexicon.entities.values()}
        heading = "Quotations"
        if speaker_id:
            heading += f" by {speaker_names.get(speaker_id, speaker_id)}"
        if topic:
            heading += f" about \u201c{render.escape_user_text(topic, 80)}\u201d"
        embed = render.quotes_embed(
            [(q, speaker_names.get(q.speaker, q.speaker)) for q in quotes], self.bot.primary_source, heading
        )
        await send_interaction(interaction, Reply(embed), ephemeral=False)

    @quote.autocomplete("speaker")
    async def speaker_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        needle = current.casefold().strip()
        choices = []
        for entity in self.bot.assistant.service.speakers():
            forms = [entity.name, *entity.aliases]
            if not needle or any(needle in form.casefold() for form in forms):
                choices.append(app_commands.Choice(name=render.choice_name(entity.name), value=entity.id))
        return choices[: render.MAX_CHOICES]

    # ---- /about -----------------------------------------------------------------------------
    @app_commands.command(name="about", description="What this bot knows and where it comes from")
    async def about(self, interaction: discord.Interaction) -> None:
        await send_interaction(interaction, Reply(self.about_embed()), ephemeral=False)

    def about_embed(self) -> discord.Embed:
        kb = self.bot.assistant.kb
        service = self.bot.assistant.service
        summary = [e.answer for e in kb.entries if "about" in e.tags]
        embed = discord.Embed(
            title="About this bot",
            description=render.truncate(
                "\n\n".join(summary) or "Answers about the U.S.\u2013Japan 2+2 meeting of January 11, 2023.",
                render.MAX_EMBED_DESCRIPTION,
            ),
            colour=render.COLOUR_ANSWER,
        )
        for source in kb.sources.values():
            lines = [f"\u201c{source.title}\u201d", f"Published {source.date_label()}"]
            if source.outlet:
                lines.append(f"Outlet: {source.outlet}")
            if source.photo_credit:
                lines.append(f"Photo: {source.photo_credit}")
            embed.add_field(
                name="Source", value=render.truncate("\n".join(lines), render.MAX_FIELD_VALUE), inline=False
            )
        examples = "\n".join(f"\u2022 {q}" for q, _ in service.starters)
        embed.add_field(
            name="Try asking",
            value=render.truncate(examples or "Who attended the meeting?", render.MAX_FIELD_VALUE),
            inline=False,
        )
        stats = kb.stats()
        embed.add_field(
            name="How it answers",
            value=(
                f"{stats['entries']} curated answers and {stats['quotes']} quotations. "
                "Every excerpt is quoted verbatim from the article with its paragraph (\u00b6). "
                "When the article does not say, the bot says so instead of guessing. "
                "Use `/ask`, `/quote`, a DM, or mention the bot."
            ),
            inline=False,
        )
        return render.fit_embed(embed)

    # ---- DMs and mentions -----------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        me = self.bot.user
        if message.author.bot or me is None or message.author.id == me.id:
            return
        if message.guild is None:
            question = message.content
        elif any(user.id == me.id for user in message.mentions):
            # Strip only the bot's own mention; other mentions are part of the question text.
            question = re.sub(rf"<@!?{me.id}>", " ", message.content)
        else:
            return
        question = question.strip()
        try:
            await self._answer_message(message, question)
        except Exception:
            log.exception("error answering message %s", message.id)
            try:
                await message.reply(APOLOGY, allowed_mentions=render.NO_PINGS, mention_author=False)
            except discord.HTTPException:
                log.warning("could not deliver the apology for message %s", message.id)

    async def _answer_message(self, message: discord.Message, question: str) -> None:
        if not question:
            await message.reply(HELP_TEXT, allowed_mentions=render.NO_PINGS, mention_author=False)
            return
        bucket = self.bot.limiter.hit(message.author.id)
        if bucket is not None:
            await message.reply(
                cooldown_text(bucket.get_retry_after()),
                allowed_mentions=render.NO_PINGS,
                mention_author=False,
            )
            return
        scope: Scope = message.guild.id if message.guild else None
        if scope is not None:
            seen, link = self.bot.recent.recent(message.channel.id, question)
            if seen:
                await message.reply(
                    f"I answered that here a moment ago{': ' + link if link else '.'}",
                    allowed_mentions=render.NO_PINGS,
                    mention_author=False,
                )
                return
        result = await self.bot.assistant.ask(
            question, scope, channel_id=message.channel.id, user_id=message.author.id
        )
        reply = build_reply(result.answer, result.question_id, scope, self.bot.primary_source)
        sent = await reply_to_message(message, reply)
        if scope is not None:
            self.bot.recent.remember(message.channel.id, question, sent.jump_url)
