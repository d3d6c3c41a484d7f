"""A live bot: the real MeetingBot on the real discord.py client, connected to the fake Discord."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest_asyncio

from bot.core.assistant import Assistant
from bot.discord_app.client import MeetingBot
from bot.settings import Settings
from tests.databases import fresh_database
from tests.fakediscord import GUILD_ID, FakeDiscord, fake_discord, running_client


@dataclass
class Live:
    fake: FakeDiscord
    bot: MeetingBot
    assistant: Assistant
    settings: Settings


def make_settings(tmp_path: Path, **over: Any) -> Settings:
    values: dict[str, Any] = {
        # SQLite, or a fresh PostgreSQL database with BOT_TEST_STORE=postgresql.
        "database": fresh_database(tmp_path),
        "dev_guild_id": GUILD_ID,
        "cooldown_rate": 100,
        "cooldown_per_seconds": 30.0,
    }
    values.update(over)
    return Settings(**values)


@contextlib.asynccontextmanager
async def start_live(settings: Settings, **fake_options: Any) -> AsyncIterator[Live]:
    """The assistant, the fake Discord and the bot connected to it; all closed on exit."""
    assistant = await Assistant.start(settings)
    try:
        async with fake_discord(**fake_options) as fake:
            bot = MeetingBot(assistant, settings, guild_ready_timeout=0.1)
            async with running_client(bot):
                yield Live(fake, bot, assistant, settings)
    finally:
        await assistant.close()


@pytest_asyncio.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    async with start_live(make_settings(tmp_path)) as running:
        yield running


async def respond(live: Live, interaction: dict[str, Any]) -> dict[str, Any]:
    """Dispatch an interaction; return the callback body, with the message Discord made of it
    (`message`) and any uploaded files (`files`)."""
    await live.fake.dispatch("INTERACTION_CREATE", interaction)
    request = await live.fake.wait_for_interaction_response(interaction)
    assert request.json is not None
    body = dict(request.json)
    resource = (request.response or {}).get("resource") or {}
    if "message" in resource:
        body["message"] = resource["message"]
    body["files"] = request.files
    return body
