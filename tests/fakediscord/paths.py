"""Regexes for the REST paths tests usually wait for (matched with ``re.search`` against the path
relative to ``/api/v10``). Functions narrow a pattern to one interaction / channel / guild."""

from __future__ import annotations

CALLBACK = r"^/interactions/\d+/[^/]+/callback$"
FOLLOWUP = r"^/webhooks/\d+/[^/]+$"
ORIGINAL_RESPONSE = r"^/webhooks/\d+/[^/]+/messages/@original$"
WEBHOOK_MESSAGE = r"^/webhooks/\d+/[^/]+/messages/(@original|\d+)$"
CHANNEL_MESSAGES = r"^/channels/\d+/messages$"
CREATE_DM = r"^/users/@me/channels$"
GLOBAL_COMMANDS = r"^/applications/\d+/commands$"
GUILD_COMMANDS = r"^/applications/\d+/guilds/\d+/commands$"


def callback(interaction_id: int | str) -> str:
    return rf"^/interactions/{interaction_id}/[^/]+/callback$"


def channel_messages(channel_id: int | str) -> str:
    return rf"^/channels/{channel_id}/messages$"


def guild_commands(guild_id: int | str) -> str:
    return rf"^/applications/\d+/guilds/{guild_id}/commands$"
