"""Asking: /ask, /quote, /about, the "Ask the bot" message menu, DMs and mentions.

Every way of asking a question ends in `bot.discord_app.asking.answer`, the one asking path.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.limits import MAX_ASK_OPTION_CHARS
from bot.core.wording import human_join
from bot.discord_app import render
from bot.discord_app.asking import InteractionAsker, MessageAsker, Question, answer
from bot.discord_app.checks import ask_autocomplete_budget
from bot.discord_app.replies import respond

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot


class AskCog(commands.Cog):
    def __init__(self, bot: MeetingBot) -> None:
        self.bot = bot
        self.ask_menu = app_commands.ContextMenu(name="Ask the bot", callback=self.ask_message)
        bot.tree.add_command(self.ask_menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.ask_menu.name, type=self.ask_menu.type)

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
        interaction: discord.Interaction[MeetingBot],
        question: app_commands.Range[str, 1, MAX_ASK_OPTION_CHARS],
        private: bool = False,
    ) -> None:
        await answer(InteractionAsker(interaction, public=not private, where="/ask"), Question(question))

    @ask.autocomplete("question")
    @ask_autocomplete_budget
    async def ask_autocomplete(
        self, interaction: discord.Interaction[MeetingBot], current: str
    ) -> list[app_commands.Choice[str]]:
        questions = self.bot.assistant.service.autocomplete(current, interaction.guild_id, render.MAX_CHOICES)
        choices: list[app_commands.Choice[str]] = []
        for q in questions:
            name = render.choice_name(q)
            choices.append(app_commands.Choice(name=name, value=name[: render.MAX_CHOICE_VALUE]))
        return choices[: render.MAX_CHOICES]

    # ---- message menu -----------------------------------------------------------------------
    async def ask_message(
        self, interaction: discord.Interaction[MeetingBot], message: discord.Message
    ) -> None:
        asker = InteractionAsker(interaction, public=True, where="the Ask the bot menu")
        await answer(asker, Question(message.content))

    # ---- /quote -----------------------------------------------------------------------------
    @app_commands.command(name="quote", description="Quotations from the meeting, by speaker and topic")
    @app_commands.describe(speaker="Who said it", topic="What it was about, e.g. Putin, sanctions, Asia")
    async def quote(
        self,
        interaction: discord.Interaction[MeetingBot],
        speaker: app_commands.Range[str, 1, 100] | None = None,
        topic: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        service = self.bot.assistant.service
        speaker_id = service.resolve_speaker(speaker) if speaker else None
        if speaker and speaker_id is None:
            names = human_join(e.name for e in service.speakers())
            who = render.escape_user_text(speaker, 100)
            await respond(interaction, f"I have no quotations from {who}. Speakers I can quote: {names}.")
            return
        quotes = service.find_quotes(speaker_id, topic, limit=render.MAX_FIELDS)
        if not quotes:
            await respond(
                interaction, "No quotation matches that. Try another topic, or leave the topic empty."
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
        await respond(interaction, embed=embed, ephemeral=False)

    @quote.autocomplete("speaker")
    async def speaker_autocomplete(
        self, interaction: discord.Interaction[MeetingBot], current: str
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
    async def about(self, interaction: discord.Interaction[MeetingBot]) -> None:
        await respond(interaction, embed=self.about_embed(), ephemeral=False)

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
        await answer(MessageAsker(self.bot, message), Question(question))
