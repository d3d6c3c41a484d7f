"""End-to-end tests of the fake Discord harness, driving a real discord.py ``commands.Bot``."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.fakediscord import (
    BOT_TOKEN,
    BOT_USER_ID,
    DM_CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    FakeDiscord,
    fake_discord,
    paths,
    payloads,
    running_client,
)

pytestmark = pytest.mark.e2e

GUILD = discord.Object(GUILD_ID)
TOPICS = ["alliance", "deterrence", "economic security", "space security"]


def bot_intents() -> discord.Intents:
    # No message_content: guild messages arrive blank unless they mention the bot.
    return discord.Intents(guilds=True, guild_messages=True, dm_messages=True)


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[FeedbackModal] = discord.ui.TextInput(
        label="Feedback", custom_id="feedback-text"
    )

    def __init__(self) -> None:
        super().__init__(custom_id="feedback-modal")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


class VoteView(discord.ui.View):
    @discord.ui.button(label="Yes", custom_id="vote-yes")
    async def yes(self, interaction: discord.Interaction, button: discord.ui.Button[VoteView]) -> None:
        await interaction.response.edit_message(content="voted: yes", view=None)


class HarnessBot(commands.Bot):
    """A tiny bot exercising every interaction kind the harness must support."""

    def __init__(self) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            help_command=None,
            guild_ready_timeout=0.1,  # discord.py otherwise waits 2 s before on_ready
        )
        self.seen_messages: list[discord.Message] = []
        self.app_errors: asyncio.Queue[app_commands.AppCommandError] = asyncio.Queue()

    async def setup_hook(self) -> None:
        for command in build_commands():
            self.tree.add_command(command, guild=GUILD)
        self.tree.on_error = self._on_app_command_error  # type: ignore[method-assign]

    async def _on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        self.app_errors.put_nowait(error)

    async def on_message(self, message: discord.Message) -> None:
        self.seen_messages.append(message)
        if self.user is None or message.author.id == self.user.id:
            return
        if message.guild is None or self.user in message.mentions:
            await message.channel.send(f"echo: {message.content}")


def build_commands() -> list[app_commands.Command[Any, ..., None] | app_commands.ContextMenu]:
    """Fresh command objects per bot (command objects must not be shared between trees)."""

    @app_commands.command(description="Replies pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong")

    @app_commands.command(description="Look up a topic")
    @app_commands.describe(topic="Topic name")
    async def lookup(interaction: discord.Interaction, topic: str) -> None:
        await interaction.response.send_message(f"topic={topic}")

    @lookup.autocomplete("topic")
    async def lookup_topics(interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return [app_commands.Choice(name=t, value=t) for t in TOPICS if current in t]

    @app_commands.command(description="Answers after thinking")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done thinking")

    @app_commands.command(description="Opens a feedback form")
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @app_commands.command(description="Posts a vote button")
    async def vote(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("vote?", view=VoteView())

    @app_commands.command(description="Uploads a report")
    async def report(interaction: discord.Interaction) -> None:
        file = discord.File(io.BytesIO(b"line 1\nline 2\n"), filename="report.txt")
        await interaction.response.send_message("report attached", file=file)

    @app_commands.context_menu(name="Quote")
    async def quote(interaction: discord.Interaction, message: discord.Message) -> None:
        await interaction.response.send_message(f"> {message.content}")

    return [ping, lookup, slow, feedback, vote, report, quote]


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with fake_discord() as server:
        yield server


@pytest_asyncio.fixture
async def bot(fake: FakeDiscord) -> AsyncIterator[HarnessBot]:
    async with running_client(HarnessBot()) as client:
        yield client


async def invoke(fake: FakeDiscord, interaction: payloads.JSON) -> payloads.JSON:
    """Dispatch an interaction and return the JSON body of the bot's (successful) callback."""
    await fake.dispatch("INTERACTION_CREATE", interaction)
    request = await fake.wait_for_interaction_response(interaction)
    assert request.status == 200, request
    assert request.query == {"with_response": "1"}
    body: payloads.JSON = request.json
    return body


async def test_connects_identifies_and_becomes_ready(fake: FakeDiscord, bot: HarnessBot) -> None:
    assert bot.is_ready()
    assert bot.user is not None and bot.user.id == BOT_USER_ID
    assert bot.application_id == BOT_USER_ID
    guild = bot.get_guild(GUILD_ID)
    assert guild is not None and guild.get_channel(fake.channel_id) is not None
    assert guild.default_role.id == GUILD_ID

    (identify,) = fake.identify_payloads
    assert identify["intents"] == bot_intents().value
    assert identify["token"] == BOT_TOKEN
    connection = fake.gateway_connections[0]
    assert connection.query["encoding"] == "json" and connection.query["v"] == "10"

    login = await fake.wait_for_request("GET", r"^/users/@me$")
    assert login.headers["Authorization"] == f"Bot {BOT_TOKEN}"
    await fake.wait_for_request("GET", r"^/oauth2/applications/@me$")


async def test_slash_command_sync_and_invoke(fake: FakeDiscord, bot: HarnessBot) -> None:
    synced = await bot.tree.sync(guild=GUILD)
    put = await fake.wait_for_request("PUT", paths.guild_commands(GUILD_ID))
    by_name = {c["name"]: c for c in put.json}
    assert by_name["ping"]["description"] == "Replies pong"
    assert by_name["lookup"]["options"][0]["autocomplete"] is True
    assert by_name["Quote"]["type"] == payloads.MESSAGE_COMMAND
    assert {c.name for c in synced} == set(by_name) and all(c.id for c in synced)

    ping_id = next(c.id for c in synced if c.name == "ping")
    body = await invoke(fake, payloads.slash_command("ping", command_id=ping_id))
    assert body["type"] == 4
    assert body["data"]["content"] == "pong"


async def test_autocomplete_answers_with_choices(fake: FakeDiscord, bot: HarnessBot) -> None:
    request = payloads.autocomplete("lookup", [payloads.option("topic", "security", focused=True)])
    body = await invoke(fake, request)
    assert body == {
        "type": 8,
        "data": {
            "choices": [
                {"name": "economic security", "value": "economic security"},
                {"name": "space security", "value": "space security"},
            ]
        },
    }


async def test_slash_command_options_reach_the_callback(fake: FakeDiscord, bot: HarnessBot) -> None:
    body = await invoke(fake, payloads.slash_command("lookup", [payloads.option("topic", "space")]))
    assert body["data"]["content"] == "topic=space"


async def test_deferred_response_then_followup(fake: FakeDiscord, bot: HarnessBot) -> None:
    interaction = payloads.slash_command("slow")
    body = await invoke(fake, interaction)
    assert body == {"type": 5}

    followup = await fake.wait_for_request("POST", paths.FOLLOWUP)
    assert followup.path == f"/webhooks/{fake.application_id}/{interaction['token']}"
    assert followup.json["content"] == "done thinking"
    assert followup.response["channel_id"] == str(fake.channel_id)


async def test_modal_then_modal_submit(fake: FakeDiscord, bot: HarnessBot) -> None:
    body = await invoke(fake, payloads.slash_command("feedback"))
    assert body["type"] == 9
    assert body["data"]["custom_id"] == "feedback-modal"
    assert body["data"]["title"] == "Feedback"

    submit = payloads.modal_submit("feedback-modal", {"feedback-text": "very useful"})
    body = await invoke(fake, submit)
    assert body["type"] == 4
    assert body["data"]["content"] == "thanks: very useful"
    assert body["data"]["flags"] == 64  # ephemeral


async def test_button_click_updates_the_message(fake: FakeDiscord, bot: HarnessBot) -> None:
    await fake.dispatch("INTERACTION_CREATE", payloads.slash_command("vote"))
    posted = await fake.wait_for_request("POST", paths.CALLBACK)
    assert posted.json["data"]["components"][0]["components"][0]["custom_id"] == "vote-yes"
    message_id = posted.response["resource"]["message"]["id"]

    body = await invoke(fake, payloads.button_click("vote-yes", message_id=int(message_id)))
    assert body["type"] == 7
    assert body["data"]["content"] == "voted: yes"


async def test_message_context_menu(fake: FakeDiscord, bot: HarnessBot) -> None:
    target = payloads.message(
        "hello from a user", author=payloads.user(), channel_id=fake.channel_id, guild_id=GUILD_ID
    )
    body = await invoke(fake, payloads.message_command("Quote", target))
    assert body["data"]["content"] == "> hello from a user"


async def test_attachments_are_recorded_from_multipart(fake: FakeDiscord, bot: HarnessBot) -> None:
    await fake.dispatch("INTERACTION_CREATE", payloads.slash_command("report"))
    request = await fake.wait_for_request("POST", paths.CALLBACK)
    assert request.json["type"] == 4
    assert request.json["data"]["attachments"] == [{"id": 0, "filename": "report.txt"}]
    assert request.files == {"report.txt": b"line 1\nline 2\n"}
    assert request.response["resource"]["message"]["attachments"][0]["filename"] == "report.txt"


async def test_member_permissions_reach_the_bot(fake: FakeDiscord, bot: HarnessBot) -> None:
    seen: asyncio.Future[discord.Permissions] = asyncio.get_running_loop().create_future()

    async def on_interaction(interaction: discord.Interaction) -> None:
        if not seen.done():
            seen.set_result(interaction.permissions)

    bot.add_listener(on_interaction)
    await fake.dispatch("INTERACTION_CREATE", payloads.slash_command("ping", permissions=MANAGE_GUILD))
    permissions = await asyncio.wait_for(seen, 5)
    assert permissions.manage_guild and not permissions.administrator


async def test_dm_message_gets_a_reply_and_guild_messages_are_blank(
    fake: FakeDiscord, bot: HarnessBot
) -> None:
    await fake.dispatch("MESSAGE_CREATE", payloads.guild_message("not for the bot"))
    await fake.dispatch("MESSAGE_CREATE", payloads.dm_message("hello"))

    reply = await fake.wait_for_request("POST", paths.channel_messages(DM_CHANNEL_ID))
    assert reply.json["content"] == "echo: hello"
    assert reply.response["author"]["id"] == str(BOT_USER_ID)
    guild_message, dm_message = bot.seen_messages
    assert guild_message.content == "" and guild_message.guild is not None
    assert dm_message.content == "hello" and dm_message.guild is None
    assert fake.find_requests("POST", paths.channel_messages(fake.channel_id)) == []


async def test_guild_mention_keeps_content(fake: FakeDiscord, bot: HarnessBot) -> None:
    await fake.dispatch("MESSAGE_CREATE", payloads.guild_message("hi there", mention_bot=True))
    reply = await fake.wait_for_request("POST", paths.channel_messages(fake.channel_id))
    assert reply.json["content"] == f"echo: <@{BOT_USER_ID}> hi there"


async def test_bot_messages_are_echoed_when_enabled() -> None:
    async with fake_discord(echo_bot_messages=True) as fake, running_client(HarnessBot()) as bot:
        assert bot.user is not None
        bot_id = bot.user.id
        own = asyncio.create_task(bot.wait_for("message", check=lambda m: m.author.id == bot_id, timeout=5))
        await asyncio.sleep(0)  # let wait_for register its listener
        await fake.dispatch("MESSAGE_CREATE", payloads.dm_message("hello"))
        echoed: discord.Message = await own
        assert echoed.content == "echo: hello"
        assert echoed.channel.id == DM_CHANNEL_ID


async def test_rate_limited_callback_is_retried(fake: FakeDiscord, bot: HarnessBot) -> None:
    rule = fake.fail_with_rate_limit("POST", paths.CALLBACK, retry_after=0.05)
    interaction = payloads.slash_command("ping")
    await fake.dispatch("INTERACTION_CREATE", interaction)

    first = await fake.wait_for_interaction_response(interaction)
    second = await fake.wait_for_interaction_response(interaction)
    assert (first.status, second.status) == (429, 200)
    assert first.json == second.json == {"type": 4, "data": second.json["data"]}
    assert second.time - first.time >= 0.05
    assert rule.hits == 1 and bot.app_errors.empty()


async def test_unknown_interaction_surfaces_as_command_error(fake: FakeDiscord, bot: HarnessBot) -> None:
    fake.fail_with_unknown_interaction()
    interaction = payloads.slash_command("ping")
    await fake.dispatch("INTERACTION_CREATE", interaction)
    request = await fake.wait_for_interaction_response(interaction)
    assert request.status == 404
    error = await asyncio.wait_for(bot.app_errors.get(), 5)
    assert isinstance(error.__cause__, discord.NotFound) and error.__cause__.code == 10062


@pytest.mark.parametrize("abort", [False, True], ids=["close-frame", "tcp-drop"])
async def test_gateway_close_resumes_and_replays(fake: FakeDiscord, bot: HarnessBot, abort: bool) -> None:
    await fake.close_gateway(code=4000, abort=abort)
    # Dispatched while the client is disconnected: must be replayed after RESUME.
    body = await invoke(fake, payloads.slash_command("ping"))
    assert body["data"]["content"] == "pong"

    resume = await fake.wait_for_gateway_op(6)
    assert fake.gateway is not None and fake.gateway.session is not None
    assert resume.d["session_id"] == fake.gateway.session.session_id
    assert len(fake.identify_payloads) == 1  # resumed, not re-identified
    latest = fake.gateway_connections[-1]
    assert latest.path == "/resume" and latest.resumed
    assert fake.gateway_connections[0].close_code == (1006 if abort else 4000)


async def test_op7_reconnect_resumes(fake: FakeDiscord, bot: HarnessBot) -> None:
    await fake.send_reconnect()
    await fake.wait_for_gateway_op(6)
    body = await invoke(fake, payloads.slash_command("ping"))
    assert body["data"]["content"] == "pong"
    assert len(fake.gateway_connections) == 2 and fake.gateway_connections[-1].resumed
    assert len(fake.identify_payloads) == 1


async def test_invalid_session_reidentifies(
    fake: FakeDiscord, bot: HarnessBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_delay(shard_id: int | None, *, initial: bool = False) -> None:
        return None

    # discord.py sleeps 5 s before every non-initial IDENTIFY (before_identify_hook).
    monkeypatch.setattr(bot, "before_identify_hook", no_delay)
    await fake.send_invalid_session(resumable=False)
    await fake.wait_for_gateway_op(2)  # the first IDENTIFY
    await fake.wait_for_gateway_op(2)  # the new one
    body = await invoke(fake, payloads.slash_command("ping"))
    assert body["data"]["content"] == "pong"
    assert len(fake.identify_payloads) == 2
