"""A fake Discord on 127.0.0.1 that the real, unmodified discord.py client connects to.

One aiohttp server serves the REST API (``/api/v10``) and the gateway websocket; discord.py is
pointed at it by patching ``discord.http.Route.BASE`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (restored on exit). Everything the client
sends is recorded; tests inject gateway events and REST faults.

Usage::

    async with fake_discord() as fake, running_client(make_bot()) as bot:
        await bot.tree.sync(guild=discord.Object(fake.guild_id))
        ping = payloads.slash_command("ping")
        await fake.dispatch("INTERACTION_CREATE", ping)
        reply = await fake.wait_for_interaction_response(ping)
        assert reply.json == {"type": 4, "data": {...}}

Build clients with ``guild_ready_timeout=0.1``: discord.py waits ``guild_ready_timeout`` (default
2 s) after the last GUILD_CREATE before firing ``on_ready``.

Only one fake can be active per process (the patched attributes are global). Fixtures::

    @pytest_asyncio.fixture
    async def fake() -> AsyncIterator[FakeDiscord]:
        async with fake_discord() as f:
            yield f
"""

from . import ids, paths, payloads
from .gateway import GatewayConnection, Identify
from .harness import fake_discord, running_client
from .ids import (
    ADMINISTRATOR,
    APPLICATION_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    CHANNEL_ID,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM_CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    OWNER_ID,
    USER_ID,
    guild_on_shard,
    snowflake,
)
from .recorder import FaultRule, GatewayFrame, RecordedRequest
from .rest import Reply
from .server import FakeDiscord

__all__ = [
    "ADMINISTRATOR",
    "APPLICATION_ID",
    "BOT_TOKEN",
    "BOT_USER_ID",
    "CHANNEL_ID",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "DM_CHANNEL_ID",
    "GUILD_ID",
    "MANAGE_GUILD",
    "OWNER_ID",
    "USER_ID",
    "FakeDiscord",
    "FaultRule",
    "GatewayConnection",
    "GatewayFrame",
    "Identify",
    "RecordedRequest",
    "Reply",
    "fake_discord",
    "guild_on_shard",
    "ids",
    "paths",
    "payloads",
    "running_client",
    "snowflake",
]
