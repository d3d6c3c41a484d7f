"""The fake Discord shards like Discord: real discord.py ``AutoShardedClient``s connect to it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from tests.fakediscord import (
    BOT_TOKEN,
    FakeDiscord,
    fake_discord,
    guild_on_shard,
    paths,
    payloads,
    running_client,
)

pytestmark = pytest.mark.e2e

SHARDS = 2
GUILDS = {shard: [guild_on_shard(shard, SHARDS, n) for n in range(2)] for shard in range(SHARDS)}


class ShardClient(discord.AutoShardedClient):
    """Records what each process-like client received."""

    def __init__(self, **options: Any) -> None:
        super().__init__(
            intents=discord.Intents(guilds=True, guild_messages=True, dm_messages=True),
            guild_ready_timeout=0.1,
            **options,
        )
        self.messages: asyncio.Queue[discord.Message] = asyncio.Queue()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return  # the fake has no identify rate limit; discord.py's default sleeps 5 s

    async def on_message(self, message: discord.Message) -> None:
        self.messages.put_nowait(message)


def all_guilds() -> list[dict[str, Any]]:
    return [payloads.guild(g, channels=[payloads.text_channel(g + 1, guild_id=g)]) for g in _ids()]


def _ids() -> list[int]:
    return [g for ids in GUILDS.values() for g in ids]


@contextlib.asynccontextmanager
async def sharded_fake(**options: Any) -> AsyncIterator[FakeDiscord]:
    async with fake_discord(guilds=all_guilds(), shards=SHARDS, **options) as fake:
        yield fake


async def test_gateway_bot_recommends_shards_and_concurrency() -> None:
    async with sharded_fake(max_concurrency=16) as fake:
        client = ShardClient()
        await client.login(BOT_TOKEN)
        try:
            shards, url, _limits = await client.http.get_bot_gateway()
            assert (shards, url) == (SHARDS, f"ws://127.0.0.1:{fake.port}")
            assert (await client.fetch_session_start_limits()).max_concurrency == 16
        finally:
            await client.close()


async def test_one_client_running_every_shard_gets_each_guild_once() -> None:
    async with sharded_fake() as fake, running_client(ShardClient()) as client:
        # No shard_count given: discord.py asked GET /gateway/bot and opened what it recommends.
        assert sorted(tuple(p["shard"]) for p in fake.identify_payloads) == [(0, 2), (1, 2)]
        assert [i.shard for i in fake.identifies] == [(0, 2), (1, 2)]
        assert sorted(g.id for g in client.guilds) == sorted(_ids())
        for guild in client.guilds:
            assert guild.shard_id == (guild.id >> 22) % SHARDS


async def test_two_processes_each_get_only_their_own_guilds_and_events() -> None:
    async with (
        sharded_fake() as fake,
        running_client(ShardClient(shard_count=SHARDS, shard_ids=[0])) as first,
        running_client(ShardClient(shard_count=SHARDS, shard_ids=[1])) as second,
    ):
        assert sorted(g.id for g in first.guilds) == sorted(GUILDS[0])
        assert sorted(g.id for g in second.guilds) == sorted(GUILDS[1])
        assert fake.shard_of(GUILDS[1][0]) == 1 and fake.shard_of(None) == 0

        for shard, client in ((0, first), (1, second)):
            guild_id = GUILDS[shard][1]
            await fake.dispatch(
                "MESSAGE_CREATE",
                payloads.guild_message("hello", guild_id=guild_id, channel_id=guild_id + 1, mention_bot=True),
            )
            message = await asyncio.wait_for(client.messages.get(), 5)
            assert message.guild is not None and message.guild.id == guild_id
        # Direct messages only reach the process that runs shard 0.
        await fake.dispatch("MESSAGE_CREATE", payloads.dm_message("psst"))
        dm = await asyncio.wait_for(first.messages.get(), 5)
        assert dm.guild is None and dm.content == "psst"
        await asyncio.sleep(0.1)
        assert first.messages.empty() and second.messages.empty()


async def test_each_shard_resumes_its_own_session() -> None:
    async with (
        sharded_fake() as fake,
        running_client(ShardClient(shard_count=SHARDS, shard_ids=[0])) as first,
        running_client(ShardClient(shard_count=SHARDS, shard_ids=[1])) as second,
    ):
        await fake.close_gateway(abort=True, shard=1)
        guild_id = GUILDS[1][0]
        # Dispatched while shard 1 is away: replayed on its RESUME, never sent to shard 0.
        await fake.dispatch(
            "MESSAGE_CREATE",
            payloads.guild_message("again", guild_id=guild_id, channel_id=guild_id + 1, mention_bot=True),
        )
        message = await asyncio.wait_for(second.messages.get(), 10)
        assert message.guild is not None and message.guild.id == guild_id
        resumed = fake.gateway_connections[-1]
        assert resumed.resumed and fake.gateway.sessions[1].connection is resumed
        assert len(fake.identifies) == 2
        assert first.messages.empty()


async def test_an_invalid_shard_is_refused_with_4010() -> None:
    async with sharded_fake() as fake, aiohttp.ClientSession() as session:
        async with session.ws_connect(fake.gateway_url) as ws:
            hello = json.loads((await ws.receive()).data)
            assert hello["op"] == 10
            identify = {"token": BOT_TOKEN, "intents": 1, "properties": {}, "shard": [2, 2]}
            await ws.send_str(json.dumps({"op": 2, "d": identify}))
            closing = await ws.receive()
            assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
            assert ws.close_code == 4010
        assert fake.identifies[0].shard == (2, 2)
        assert fake.gateway.sessions == {}


async def test_command_syncs_are_recorded() -> None:
    async with (
        sharded_fake() as fake,
        running_client(ShardClient(shard_count=SHARDS, shard_ids=[0])) as client,
    ):
        tree = discord.app_commands.CommandTree(client)

        @tree.command(name="ping", description="ping")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong")

        await tree.sync()
        await tree.sync(guild=discord.Object(GUILDS[0][0]))
        global_sync, guild_sync = fake.command_syncs()
        assert re.search(paths.GLOBAL_COMMANDS, global_sync.path)
        assert re.search(paths.guild_commands(GUILDS[0][0]), guild_sync.path)
        assert [c["name"] for c in global_sync.json] == ["ping"]
