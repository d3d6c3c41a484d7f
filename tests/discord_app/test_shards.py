"""Two MeetingBots splitting two shards over the fake Discord: each answers only its own servers."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.core.assistant import Assistant
from bot.discord_app.client import MeetingBot
from bot.logs import FORMAT, tag_shards
from bot.settings import Settings
from tests.discord_app.conftest import make_settings
from tests.discord_app.test_ask import ask, embed_of
from tests.fakediscord import FakeDiscord, fake_discord, guild_on_shard, paths, payloads, running_client

pytestmark = pytest.mark.e2e

SERVERS = {shard: guild_on_shard(shard, 2) for shard in (0, 1)}


def guilds() -> list[dict[str, Any]]:
    return [payloads.guild(g, channels=[payloads.text_channel(g + 1, guild_id=g)]) for g in SERVERS.values()]


@contextlib.asynccontextmanager
async def shard_process(settings: Settings) -> AsyncIterator[MeetingBot]:
    assistant = await Assistant.start(settings)
    try:
        async with running_client(MeetingBot(assistant, settings, guild_ready_timeout=0.1)) as bot:
            yield bot
    finally:
        await assistant.close()


async def test_two_processes_split_the_servers_and_only_shard_zero_syncs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    common: dict[str, Any] = {"dev_guild_id": None, "shard_count": 2}
    caplog.set_level(logging.INFO)
    # max_concurrency 2: the shards are in different buckets and identify at once.
    async with (
        fake_discord(guilds=guilds(), shards=2, max_concurrency=2) as fake,
        shard_process(make_settings(tmp_path, shard_ids=(0,), **common)) as first,
        shard_process(make_settings(tmp_path, shard_ids=(1,), **common)) as second,
    ):
        assert [i.shard for i in fake.identifies] == [(0, 2), (1, 2)]
        assert [g.id for g in first.guilds] == [SERVERS[0]]
        assert [g.id for g in second.guilds] == [SERVERS[1]]
        # One global sync, by the process that runs shard 0.
        (sync,) = fake.command_syncs()
        assert sync.path.endswith("/commands") and "/guilds/" not in sync.path
        assert {c["name"] for c in sync.json} >= {"ask", "qa"}

        for shard, server in SERVERS.items():
            question = ask("Who attended the meeting?", guild_id=server, channel_id=server + 1)
            await answered_once(fake, question)
            assert fake.shard_of(server) == shard
        # A DM reaches shard 0's process, which answers it.
        await fake.dispatch("MESSAGE_CREATE", payloads.dm_message("who attended the meeting?"))
        reply = await fake.wait_for_request("POST", paths.CHANNEL_MESSAGES)
        assert "Blinken" in str(reply.json)
    assert "shard 0 ready with 1 server" in caplog.text
    assert "shard 1 ready with 1 server" in caplog.text
    assert "commands are synced by the process that runs shard 0" in caplog.text


async def answered_once(fake: FakeDiscord, interaction: dict[str, Any]) -> None:
    await fake.dispatch("INTERACTION_CREATE", interaction)
    response = await fake.wait_for_interaction_response(interaction)
    assert response.json is not None and "Blinken" in embed_of(response.json)["description"]
    # Nobody else tried to answer it (a second callback would be recorded, refused with 400).
    assert len(fake.find_requests("POST", paths.callback(interaction["id"]))) == 1


def test_log_lines_name_the_shards(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.logs import configure_logging

    configure_logging("INFO")
    try:
        tag_shards("2-3/4")
        logging.getLogger("bot.test").info("hello")
        assert "shards=2-3/4 logger=bot.test hello" in capsys.readouterr().err
    finally:
        configure_logging("INFO")
        assert logging.getLogger().handlers[0].formatter._fmt == FORMAT  # type: ignore[union-attr]
