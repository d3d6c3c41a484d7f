"""`run_bot` / `sync_commands` against the fake Discord: start-up, bad token, clean shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from bot.core.store import Store
from bot.discord_app.runner import BAD_TOKEN, MISSING_INTENT, StartupError, run_bot, sync_commands
from tests.discord_app.conftest import make_settings
from tests.fakediscord import GUILD_ID, fake_discord, paths

pytestmark = pytest.mark.e2e


async def test_sigterm_closes_the_gateway_and_the_database(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, discord_token="fake-bot-token")
    async with fake_discord() as fake:
        task = asyncio.create_task(run_bot(settings))
        await fake.wait_for_gateway_op(2, timeout=10)  # IDENTIFY: the bot is connecting
        await fake.wait_for_request("PUT", paths.guild_commands(GUILD_ID), timeout=10)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(task, timeout=10)
    assert task.exception() is None
    # The database was closed cleanly: it reopens and still holds the seeded base.
    store = await Store.open(settings.database)
    try:
        assert await store.count_entries(None) > 0
    finally:
        await store.close()


async def test_a_rejected_token_is_one_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, discord_token="revoked-token")
    async with fake_discord() as fake:
        fake.fail_next("GET", r"^/users/@me$", status=401, body={"message": "401: Unauthorized", "code": 0})
        with pytest.raises(StartupError) as info:
            await run_bot(settings)
    assert str(info.value) == BAD_TOKEN
    assert "revoked-token" not in str(info.value)


async def test_a_refused_intent_is_one_clear_error(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, discord_token="fake-bot-token")
    async with fake_discord() as fake:
        task = asyncio.create_task(run_bot(settings))
        await fake.wait_for_gateway_op(2, timeout=10)  # IDENTIFY
        await fake.close_gateway(code=4014)  # Discord: "Disallowed intent(s)"
        with pytest.raises(StartupError) as info:
            await asyncio.wait_for(task, timeout=10)
    assert str(info.value) == MISSING_INTENT


async def test_sync_command_pushes_commands_to_one_guild(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, discord_token="fake-bot-token")
    async with fake_discord() as fake:
        count = await sync_commands(settings, GUILD_ID)
        put = await fake.wait_for_request("PUT", paths.guild_commands(GUILD_ID))
    assert count == len(put.json) >= 4
    assert fake.identify_payloads == []  # REST only: no gateway connection for a sync
