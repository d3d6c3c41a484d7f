"""The one asking path: `/ask`, the "Ask the bot" message menu, a suggestion chosen from a
menu, a DM and a mention all end in `answer`.

In order: the question must have some text; the user's question rate (one limiter for every
way of asking, so switching from /ask to a DM does not get around it); an answer everyone in a
server channel would see is not posted again while the same one is fresh there; the answer
(deferred in time for Discord's 3-second deadline when it is slow); the reply; and on any
failure a polite explanation instead of silence. The ways of asking differ only in how the
bot speaks back, which an `Asker` says.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

import discord

from bot.core.answers import Answer
from bot.core.assistant import AskResult
from bot.core.models import Scope, Source
from bot.discord_app import render
from bot.discord_app.errors import APOLOGY, cooldown_text, report
from bot.discord_app.replies import Reply, reply_to_message, respond
from bot.discord_app.views import FeedbackButton, SuggestionSelect

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Past this, a still-running answer to an interaction is deferred ("thinking…"), so Discord's
#: 3-second deadline is never missed.
DEFER_AFTER_SECONDS = 1.5
HELP_TEXT: Final = (
    "Ask me about the U.S.\u2013Japan \u201c2+2\u201d meeting of January 11, 2023: "
    "for example \u201cWho attended?\u201d. Try `/ask`, `/quote` or `/about`."
)
NO_QUESTION: Final = f"I found no question there to answer. {HELP_TEXT}"
GONE: Final = "That question is no longer in the knowledge base."
ALREADY_ANSWERED: Final = "I answered that in this channel a moment ago"


def already_answered(link: str | None) -> str:
    """Instead of posting the same answer again: where the fresh one is."""
    return f"{ALREADY_ANSWERED}: {link}" if link else f"{ALREADY_ANSWERED}, just above."


@dataclass(frozen=True)
class Question:
    text: str
    #: A suggestion the user chose: answer with this document instead of searching.
    key: str | None = None


class Asker(ABC):
    """Who asked, where, and how to speak back there."""

    def __init__(
        self,
        bot: MeetingBot,
        *,
        user_id: int,
        guild_id: int | None,
        channel_id: int | None,
        public: bool,
        where: str,
    ) -> None:
        self.bot = bot
        self.user_id = user_id
        self.guild_id = guild_id
        self.channel_id = channel_id
        #: Whether the answer is seen by everyone in the channel (not ephemeral).
        self.public = public
        #: For the logs: "/ask", "a DM"...
        self.where = where

    @property
    def scope(self) -> Scope:
        return self.guild_id

    @property
    def shared_channel(self) -> int | None:
        """The server channel whose members all see the answer, if they do."""
        return self.channel_id if self.public and self.guild_id is not None else None

    async def in_time(self, work: Coroutine[Any, Any, T]) -> T:
        return await work

    @abstractmethod
    async def notice(self, text: str) -> None:
        """A short message instead of an answer (privately, where Discord allows it)."""

    @abstractmethod
    async def send(self, reply: Reply) -> discord.Message | None:
        """The answer; the message sent, when Discord reports it."""

    @abstractmethod
    async def failed(self, error: Exception) -> None:
        """Log `error` and tell the asker, politely."""


class InteractionAsker(Asker):
    """A slash command, the message menu or a suggestion menu."""

    def __init__(self, interaction: discord.Interaction[MeetingBot], *, public: bool, where: str) -> None:
        super().__init__(
            interaction.client,
            user_id=interaction.user.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            public=public,
            where=where,
        )
        self.interaction = interaction

    async def in_time(self, work: Coroutine[Any, Any, T]) -> T:
        task = asyncio.ensure_future(work)
        try:
            done, _ = await asyncio.wait({task}, timeout=DEFER_AFTER_SECONDS)
            if not done:
                await self.interaction.response.defer(ephemeral=not self.public, thinking=True)
            return await task
        finally:
            task.cancel()  # a no-op once it finished; stops it if the deferral failed

    async def notice(self, text: str) -> None:
        await respond(self.interaction, text)

    async def send(self, reply: Reply) -> discord.Message | None:
        return await respond(self.interaction, embed=reply.embed, view=reply.view, ephemeral=not self.public)

    async def failed(self, error: Exception) -> None:
        await report(self.interaction, error, self.where)


class MessageAsker(Asker):
    """A DM or a message that mentions the bot; answered with a reply to it."""

    def __init__(self, bot: MeetingBot, message: discord.Message) -> None:
        super().__init__(
            bot,
            user_id=message.author.id,
            guild_id=message.guild.id if message.guild else None,
            channel_id=message.channel.id,
            public=True,
            where="a DM" if message.guild is None else "a mention",
        )
        self.message = message

    async def notice(self, text: str) -> None:
        await reply_to_message(self.message, text)

    async def send(self, reply: Reply) -> discord.Message | None:
        return await reply_to_message(self.message, reply=reply)

    async def failed(self, error: Exception) -> None:
        log.error("error answering %s (message %s)", self.where, self.message.id, exc_info=error)
        try:
            await reply_to_message(self.message, APOLOGY)
        except discord.HTTPException:
            log.warning("could not deliver the apology for message %s", self.message.id)


async def answer(asker: Asker, question: Question) -> None:
    """Answer `question` for `asker`: the one path every way of asking takes."""
    try:
        await _answer(asker, question)
    except Exception as error:
        await asker.failed(error)


async def _answer(asker: Asker, question: Question) -> None:
    bot = asker.bot
    text = question.text.strip()
    if not text:
        await asker.notice(NO_QUESTION)
        return
    bucket = bot.limiter.hit(asker.user_id)
    if bucket is not None:
        await asker.notice(cooldown_text(bucket.get_retry_after()))
        return
    channel = asker.shared_channel
    if channel is not None:
        seen, link = bot.recent.recent(channel, text)
        if seen:
            await asker.notice(already_answered(link))
            return
    result = await asker.in_time(_ask(asker, question, text))
    if result is None:
        await asker.notice(GONE)
        return
    sent = await asker.send(build_reply(result.answer, result.question_id, bot.primary_source))
    if channel is not None:
        bot.recent.remember(channel, text, sent.jump_url if sent is not None else None)


async def _ask(asker: Asker, question: Question, text: str) -> AskResult | None:
    assistant = asker.bot.assistant
    if question.key is not None:
        return await assistant.ask_document(
            text, question.key, asker.scope, channel_id=asker.channel_id, user_id=asker.user_id
        )
    return await assistant.ask(text, asker.scope, channel_id=asker.channel_id, user_id=asker.user_id)


def build_reply(answer: Answer, question_id: int | None, source: Source | None) -> Reply:
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
        view.add_item(SuggestionSelect.build(answer.suggestions, answer.suggestion_keys))
    return Reply(render.unknown_embed(answer, source), view)


__all__ = ["Asker", "InteractionAsker", "MessageAsker", "Question", "answer", "build_reply"]
