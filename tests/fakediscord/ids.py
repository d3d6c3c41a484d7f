"""Default identities of the fake Discord and a snowflake generator.

The defaults are used both by :class:`~tests.fakediscord.server.FakeDiscord` and by the payload
builders, so a test that sticks to defaults never has to pass ids around.
"""

from __future__ import annotations

import itertools
import threading
import time

DISCORD_EPOCH_MS = 1_420_070_400_000

# For bot accounts Discord uses the same snowflake for the application and its bot user.
APPLICATION_ID = 1_100_000_000_000_000_001
BOT_USER_ID = APPLICATION_ID
OWNER_ID = 1_100_000_000_000_000_002
GUILD_ID = 1_100_000_000_000_000_100
CHANNEL_ID = 1_100_000_000_000_000_101
USER_ID = 1_100_000_000_000_000_200
DM_CHANNEL_ID = 1_100_000_000_000_000_201

BOT_TOKEN = "fake-bot-token"  # not a secret: the fake accepts any token

# Permission bit-sets as Discord serialises them (decimal strings on the wire).
MANAGE_GUILD = 0x20
ADMINISTRATOR = 0x8
# view channel, send messages, embed links, attach files, read history, add reactions,
# external emojis, use application commands, send in threads.
DEFAULT_EVERYONE_PERMISSIONS = 277_025_770_560

_counter = itertools.count()
_lock = threading.Lock()


def snowflake() -> int:
    """Return a fresh, time-ordered snowflake (so ``discord.utils.snowflake_time`` stays sensible)."""
    with _lock:
        count = next(_counter)
    ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
    # The low 22 bits (worker, process, increment) carry a global counter, so ids never collide
    # even when thousands are minted within one millisecond.
    return (ms << 22) | (count & 0x3FFFFF)


def guild_on_shard(shard_id: int, shard_count: int, index: int = 0) -> int:
    """A guild id that Discord's formula, ``(guild_id >> 22) % shard_count``, puts on ``shard_id``
    (``index`` picks further distinct ones); near ``GUILD_ID`` so it reads like a real snowflake."""
    base = GUILD_ID >> 22
    return ((base - base % shard_count + shard_id + shard_count * index) << 22) | (GUILD_ID & 0x3FFFFF)
