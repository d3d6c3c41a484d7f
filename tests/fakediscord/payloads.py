"""Builders for Discord-shaped JSON documents (API v10) as discord.py 2.7.1 parses them.

Every builder returns a fresh ``dict`` (discord.py mutates some payloads in place, e.g. it pops
``member`` out of mention entries), already JSON-serialisable: snowflakes as strings, permissions
as decimal strings, timestamps in ISO-8601.

Field lists follow the Discord documentation; the fields discord.py *requires* (a ``KeyError``
otherwise) are noted in the docstrings because those are the ones a hand-written payload forgets.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict, Unpack

from .ids import (
    APPLICATION_ID,
    BOT_USER_ID,
    CHANNEL_ID,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM_CHANNEL_ID,
    GUILD_ID,
    OWNER_ID,
    USER_ID,
    snowflake,
)

JSON = dict[str, Any]

# Interaction types (``interaction.type``).
PING, APPLICATION_COMMAND, MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 1, 2, 3, 4, 5
# Application command types (``interaction.data.type``).
CHAT_INPUT, USER_COMMAND, MESSAGE_COMMAND = 1, 2, 3
# Application command option types.
OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP, OPT_STRING, OPT_INTEGER, OPT_BOOLEAN = 1, 2, 3, 4, 5
OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE, OPT_NUMBER, OPT_ATTACHMENT = 6, 7, 8, 9, 10, 11
# Component types.
ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT, LABEL = 1, 2, 3, 4, 18
# Channel types.
GUILD_TEXT, DM = 0, 1
# Interaction context types.
CONTEXT_GUILD, CONTEXT_BOT_DM = 0, 1

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024  # what Discord reports for unboosted guilds


def timestamp(when: datetime.datetime | None = None) -> str:
    """ISO-8601 timestamp the way Discord writes it (always UTC, with offset)."""
    return (when or datetime.datetime.now(datetime.UTC)).isoformat()


# --------------------------------------------------------------------------- users & guilds


def user(
    user_id: int = USER_ID,
    username: str = "tester",
    *,
    global_name: str | None = None,
    bot: bool = False,
    avatar: str | None = None,
) -> JSON:
    """A user object. discord.py requires ``id, username, discriminator, avatar``."""
    doc: JSON = {
        "id": str(user_id),
        "username": username,
        "discriminator": "0",  # pomelo usernames: "0" means "no discriminator"
        "global_name": global_name,
        "avatar": avatar,
        "public_flags": 0,
        "flags": 0,
        "banner": None,
        "accent_color": None,
        "avatar_decoration_data": None,
        "primary_guild": None,
        "collectibles": None,
    }
    if bot:
        doc["bot"] = True
    return doc


def bot_user(user_id: int = BOT_USER_ID, username: str = "fakebot") -> JSON:
    """The bot's own user as returned by ``GET /users/@me`` (adds the private fields)."""
    doc = user(user_id, username, bot=True)
    doc.update({"verified": True, "mfa_enabled": False, "email": None, "locale": "en-US", "bio": ""})
    return doc


def role(
    role_id: int,
    name: str,
    *,
    permissions: int = 0,
    position: int = 1,
    color: int = 0,
    managed: bool = False,
) -> JSON:
    """A guild role. The ``@everyone`` role has the guild's id and position 0."""
    return {
        "id": str(role_id),
        "name": name,
        "color": color,
        "colors": {"primary_color": color, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": managed,
        "mentionable": False,
        "flags": 0,
    }


def everyone_role(guild_id: int = GUILD_ID, permissions: int = DEFAULT_EVERYONE_PERMISSIONS) -> JSON:
    return role(guild_id, "@everyone", permissions=permissions, position=0)


def member(
    user_doc: JSON | None = None,
    *,
    roles: Iterable[int] = (),
    permissions: int | None = None,
    nick: str | None = None,
    include_user: bool = True,
) -> JSON:
    """A guild member. discord.py requires ``user`` (except in message payloads), ``roles``, ``flags``.

    ``permissions`` is only present where Discord sends resolved permissions: in interactions.
    ``include_user=False`` gives the partial member Discord embeds in MESSAGE_CREATE / mentions.
    """
    doc: JSON = {
        "roles": [str(r) for r in roles],
        "nick": nick,
        "avatar": None,
        "banner": None,
        "joined_at": timestamp(),
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "flags": 0,
        "pending": False,
        "communication_disabled_until": None,
        "unusual_dm_activity_until": None,
    }
    if include_user:
        doc["user"] = user_doc if user_doc is not None else user()
    if permissions is not None:
        doc["permissions"] = str(permissions)
    return doc


def text_channel(
    channel_id: int = CHANNEL_ID,
    *,
    guild_id: int = GUILD_ID,
    name: str = "general",
    position: int = 0,
    topic: str | None = None,
    parent_id: int | None = None,
) -> JSON:
    """A guild text channel. discord.py requires ``id, type, name, position``."""
    return {
        "id": str(channel_id),
        "type": GUILD_TEXT,
        "guild_id": str(guild_id),
        "name": name,
        "position": position,
        "topic": topic,
        "parent_id": str(parent_id) if parent_id else None,
        "nsfw": False,
        "rate_limit_per_user": 0,
        "last_message_id": None,
        "permission_overwrites": [],
        "flags": 0,
    }


def dm_channel(channel_id: int = DM_CHANNEL_ID, *, recipient: JSON | None = None) -> JSON:
    """A DM channel as returned by ``POST /users/@me/channels``."""
    return {
        "id": str(channel_id),
        "type": DM,
        "last_message_id": None,
        "flags": 0,
        "recipients": [recipient if recipient is not None else user()],
    }


def guild(
    guild_id: int = GUILD_ID,
    *,
    name: str = "Fake Guild",
    owner_id: int = OWNER_ID,
    channels: Sequence[JSON] | None = None,
    roles: Sequence[JSON] = (),
    members: Sequence[JSON] | None = None,
    everyone_permissions: int = DEFAULT_EVERYONE_PERMISSIONS,
    bot: JSON | None = None,
) -> JSON:
    """A full GUILD_CREATE document.

    ``roles`` are extra roles; the ``@everyone`` role (id == guild id) is always first.
    ``members`` defaults to just the bot's own member, which Discord always includes.
    """
    if channels is None:
        channels = [text_channel(guild_id=guild_id)]
    if members is None:
        members = [member(bot if bot is not None else bot_user())]
    return {
        "id": str(guild_id),
        "name": name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(owner_id),
        "afk_channel_id": None,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": [everyone_role(guild_id, everyone_permissions), *roles],
        "emojis": [],
        "stickers": [],
        "features": [],
        "mfa_level": 0,
        "application_id": None,
        "system_channel_id": channels[0]["id"] if channels else None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "safety_alerts_channel_id": None,
        "vanity_url_code": None,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": "en-US",
        "nsfw_level": 0,
        "max_members": 500000,
        "max_video_channel_users": 25,
        "incidents_data": None,
        # GUILD_CREATE-only fields
        "joined_at": timestamp(),
        "large": False,
        "unavailable": False,
        "lazy": True,
        "member_count": len(members),
        "members": list(members),
        "channels": list(channels),
        "threads": [],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "soundboard_sounds": [],
    }


def application_info(
    application_id: int = APPLICATION_ID,
    *,
    name: str = "fakebot",
    bot: JSON | None = None,
    owner: JSON | None = None,
    flags: int = 0,
) -> JSON:
    """``GET /oauth2/applications/@me``. discord.py requires
    ``id, name, description, icon, bot_public, bot_require_code_grant, owner, verify_key``."""
    return {
        "id": str(application_id),
        "name": name,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "hook": True,
        "bot_public": True,
        "bot_require_code_grant": False,
        "verify_key": "0" * 64,
        "flags": flags,
        "owner": owner if owner is not None else user(OWNER_ID, "owner"),
        "team": None,
        "bot": bot if bot is not None else bot_user(),
        "rpc_origins": [],
        "redirect_uris": [],
        # Must stay null: discord.py warns and Discord stops sending gateway interactions otherwise.
        "interactions_endpoint_url": None,
        "approximate_guild_count": 1,
        "integration_types_config": {"0": {}},
        "tags": [],
    }


# --------------------------------------------------------------------------- messages


def message(
    content: str,
    *,
    author: JSON,
    channel_id: int,
    message_id: int | None = None,
    guild_id: int | None = None,
    author_member: JSON | None = None,
    mentions: Sequence[JSON] = (),
    embeds: Sequence[JSON] = (),
    attachments: Sequence[JSON] = (),
    components: Sequence[JSON] = (),
    flags: int = 0,
    type: int = 0,
    extra: Mapping[str, Any] | None = None,
) -> JSON:
    """A message object. discord.py requires ``id, channel_id, type, content`` (+ ``author``).

    Gateway messages in guilds additionally carry ``guild_id`` and a partial ``member``.
    """
    doc: JSON = {
        "id": str(message_id if message_id is not None else snowflake()),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": timestamp(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": list(mentions),
        "mention_roles": [],
        "attachments": list(attachments),
        "embeds": list(embeds),
        "components": list(components),
        "pinned": False,
        "type": type,
        "flags": flags,
    }
    if guild_id is not None:
        doc["guild_id"] = str(guild_id)
    if author_member is not None:
        doc["member"] = author_member
    if extra:
        doc.update(extra)
    return doc


def guild_message(
    content: str,
    *,
    author: JSON | None = None,
    roles: Iterable[int] = (),
    channel_id: int = CHANNEL_ID,
    guild_id: int = GUILD_ID,
    mention_bot: bool = False,
    bot: JSON | None = None,
    message_content_intent: bool = False,
    message_id: int | None = None,
) -> JSON:
    """MESSAGE_CREATE in a guild text channel, as a bot *without* the message-content intent sees it.

    ``mention_bot`` prefixes ``<@bot>`` (unless already present) and lists the bot in ``mentions``.
    Without the intent and without a mention, Discord blanks ``content`` (and embeds, attachments,
    components); pass ``message_content_intent=True`` to model a bot that has the intent.
    """
    author = author if author is not None else user()
    bot = bot if bot is not None else bot_user()
    mentions: list[JSON] = []
    if mention_bot:
        token = f"<@{bot['id']}>"
        if token not in content:
            content = f"{token} {content}"
        mentions.append({**bot, "member": member(include_user=False)})
    if not (mention_bot or message_content_intent):
        content = ""
    return message(
        content,
        author=author,
        author_member=member(roles=roles, include_user=False),
        channel_id=channel_id,
        guild_id=guild_id,
        mentions=mentions,
        message_id=message_id,
    )


def dm_message(
    content: str,
    *,
    author: JSON | None = None,
    channel_id: int = DM_CHANNEL_ID,
    message_id: int | None = None,
) -> JSON:
    """MESSAGE_CREATE in a DM with the bot: no ``guild_id``/``member``; content is always kept."""
    return message(
        content,
        author=author if author is not None else user(),
        channel_id=channel_id,
        message_id=message_id,
    )


# --------------------------------------------------------------------------- interactions


class InteractionContext(TypedDict, total=False):
    """Where and by whom an interaction happens; shared keyword arguments of interaction builders.

    ``guild_id=None`` makes it a DM interaction (``user`` instead of ``member``).
    ``permissions`` is the invoking member's resolved permission integer (e.g. ``MANAGE_GUILD``).
    """

    guild_id: int | None
    channel_id: int
    user: JSON
    roles: Iterable[int]
    permissions: int
    app_permissions: int
    locale: str
    guild_locale: str
    interaction_id: int
    token: str
    application_id: int
    message: JSON


def _channel_for(ctx: InteractionContext, guild_id: int | None, invoker: JSON) -> JSON:
    if guild_id is None:
        return dm_channel(ctx.get("channel_id", DM_CHANNEL_ID), recipient=invoker)
    return text_channel(ctx.get("channel_id", CHANNEL_ID), guild_id=guild_id)


def interaction(type: int, data: JSON | None, **ctx: Unpack[InteractionContext]) -> JSON:
    """Generic INTERACTION_CREATE document; the specific builders below fill ``type``/``data``.

    discord.py requires ``id, application_id, type, token, version, attachment_size_limit``;
    ``interaction.channel_id`` is derived from the ``channel`` object (not ``channel_id``).
    """
    guild_id = ctx.get("guild_id", GUILD_ID)
    invoker = ctx.get("user") or user()
    channel = _channel_for(ctx, guild_id, invoker)
    app_id = ctx.get("application_id", APPLICATION_ID)
    doc: JSON = {
        "id": str(ctx.get("interaction_id") or snowflake()),
        "application_id": str(app_id),
        "type": type,
        "token": ctx.get("token") or f"itok-{secrets.token_urlsafe(24)}",
        "version": 1,
        "channel": channel,
        "channel_id": channel["id"],
        "app_permissions": str(ctx.get("app_permissions", DEFAULT_EVERYONE_PERMISSIONS)),
        "locale": ctx.get("locale", "en-US"),
        "entitlements": [],
        "entitlement_sku_ids": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if data is not None:
        doc["data"] = data
    if guild_id is not None:
        doc["guild_id"] = str(guild_id)
        doc["guild"] = {"id": str(guild_id), "locale": ctx.get("guild_locale", "en-US"), "features": []}
        doc["guild_locale"] = ctx.get("guild_locale", "en-US")
        doc["member"] = member(
            invoker,
            roles=ctx.get("roles", ()),
            permissions=ctx.get("permissions", DEFAULT_EVERYONE_PERMISSIONS),
        )
        doc["context"] = CONTEXT_GUILD
        doc["authorizing_integration_owners"] = {"0": str(guild_id)}
    else:
        doc["user"] = invoker
        doc["context"] = CONTEXT_BOT_DM
        doc["authorizing_integration_owners"] = {"0": "0"}
    if "message" in ctx:
        doc["message"] = ctx["message"]
    return doc


def option(
    name: str, value: str | int | float | bool, *, type: int | None = None, focused: bool = False
) -> JSON:
    """A filled command option; ``type`` is inferred from the Python value unless given
    (pass ``OPT_USER``/``OPT_CHANNEL``/... for snowflake options, with ``resolved`` data)."""
    if type is None:
        if isinstance(value, bool):
            type = OPT_BOOLEAN
        elif isinstance(value, int):
            type = OPT_INTEGER
        elif isinstance(value, float):
            type = OPT_NUMBER
        else:
            type = OPT_STRING
    doc: JSON = {"name": name, "type": type, "value": value}
    if focused:
        doc["focused"] = True
    return doc


def subcommand(name: str, options: Sequence[JSON] = (), *, group: bool = False) -> JSON:
    """A sub-command (or sub-command group) wrapper around further options."""
    kind = OPT_SUB_COMMAND_GROUP if group else OPT_SUB_COMMAND
    return {"name": name, "type": kind, "options": list(options)}


def _command_data(
    name: str,
    command_type: int,
    *,
    command_id: int | None,
    guild_command: bool,
    guild_id: int | None,
    options: Sequence[JSON] = (),
    resolved: JSON | None = None,
    target_id: int | None = None,
) -> JSON:
    data: JSON = {"id": str(command_id or snowflake()), "name": name, "type": command_type}
    if options or command_type == CHAT_INPUT:
        data["options"] = list(options)
    # Discord sets data.guild_id only for guild-registered commands; discord.py uses it to pick
    # the guild command table (and falls back to global commands by default).
    if guild_command and guild_id is not None:
        data["guild_id"] = str(guild_id)
    if resolved is not None:
        data["resolved"] = resolved
    if target_id is not None:
        data["target_id"] = str(target_id)
    return data


def slash_command(
    name: str,
    options: Sequence[JSON] = (),
    *,
    command_id: int | None = None,
    guild_command: bool = True,
    resolved: JSON | None = None,
    **ctx: Unpack[InteractionContext],
) -> JSON:
    """A chat-input command invocation (interaction type 2, data.type 1).

    ``guild_command=False`` models a *global* command (no ``data.guild_id``).
    """
    data = _command_data(
        name,
        CHAT_INPUT,
        command_id=command_id,
        guild_command=guild_command,
        guild_id=ctx.get("guild_id", GUILD_ID),
        options=options,
        resolved=resolved,
    )
    return interaction(APPLICATION_COMMAND, data, **ctx)


def autocomplete(
    name: str,
    options: Sequence[JSON],
    *,
    command_id: int | None = None,
    guild_command: bool = True,
    **ctx: Unpack[InteractionContext],
) -> JSON:
    """An autocomplete request (type 4); exactly one option should be ``focused=True``."""
    if sum(1 for o in options if o.get("focused")) != 1:
        raise ValueError("autocomplete needs exactly one focused option")
    data = _command_data(
        name,
        CHAT_INPUT,
        command_id=command_id,
        guild_command=guild_command,
        guild_id=ctx.get("guild_id", GUILD_ID),
        options=options,
    )
    return interaction(AUTOCOMPLETE, data, **ctx)


def message_command(
    name: str,
    target: JSON,
    *,
    command_id: int | None = None,
    guild_command: bool = True,
    **ctx: Unpack[InteractionContext],
) -> JSON:
    """A message context-menu invocation (type 2, data.type 3) on ``target`` (a message object).

    Resolved messages carry their content even without the message-content intent.
    """
    data = _command_data(
        name,
        MESSAGE_COMMAND,
        command_id=command_id,
        guild_command=guild_command,
        guild_id=ctx.get("guild_id", GUILD_ID),
        resolved={"messages": {target["id"]: target}},
        target_id=int(target["id"]),
    )
    return interaction(APPLICATION_COMMAND, data, **ctx)


def user_command(
    name: str,
    target: JSON,
    *,
    command_id: int | None = None,
    guild_command: bool = True,
    **ctx: Unpack[InteractionContext],
) -> JSON:
    """A user context-menu invocation (type 2, data.type 2) on ``target`` (a user object)."""
    guild_id = ctx.get("guild_id", GUILD_ID)
    resolved: JSON = {"users": {target["id"]: target}}
    if guild_id is not None:
        resolved["members"] = {target["id"]: member(include_user=False, permissions=0)}
    data = _command_data(
        name,
        USER_COMMAND,
        command_id=command_id,
        guild_command=guild_command,
        guild_id=guild_id,
        resolved=resolved,
        target_id=int(target["id"]),
    )
    return interaction(APPLICATION_COMMAND, data, **ctx)


def bot_message(
    content: str = "",
    *,
    message_id: int | None = None,
    channel_id: int = CHANNEL_ID,
    components: Sequence[JSON] = (),
) -> JSON:
    """A message authored by the bot (e.g. the one carrying buttons a user clicks)."""
    return message(
        content,
        author=bot_user(),
        channel_id=channel_id,
        message_id=message_id,
        components=components,
    )


def _component_ctx(ctx: InteractionContext, message_id: int | None) -> InteractionContext:
    # Component interactions always carry the message the component is attached to; discord.py
    # keys its view store on that message id.
    if "message" not in ctx:
        channel_id = ctx.get("channel_id", CHANNEL_ID if ctx.get("guild_id", GUILD_ID) else DM_CHANNEL_ID)
        ctx = {**ctx, "message": bot_message(message_id=message_id, channel_id=channel_id)}
    return ctx


def button_click(custom_id: str, *, message_id: int | None = None, **ctx: Unpack[InteractionContext]) -> JSON:
    """A button press (type 3, component_type 2) on the message ``message_id`` (or ``message``)."""
    data: JSON = {"custom_id": custom_id, "component_type": BUTTON}
    return interaction(MESSAGE_COMPONENT, data, **_component_ctx(ctx, message_id))


def select_menu(
    custom_id: str,
    values: Sequence[str],
    *,
    message_id: int | None = None,
    component_type: int = STRING_SELECT,
    resolved: JSON | None = None,
    **ctx: Unpack[InteractionContext],
) -> JSON:
    """A select-menu choice (type 3); string select by default."""
    data: JSON = {"custom_id": custom_id, "component_type": component_type, "values": list(values)}
    if resolved is not None:
        data["resolved"] = resolved
    return interaction(MESSAGE_COMPONENT, data, **_component_ctx(ctx, message_id))


def modal_submit(
    custom_id: str,
    values: Mapping[str, str],
    *,
    labels: bool = False,
    **ctx: Unpack[InteractionContext],
) -> JSON:
    """A modal submission (type 5) with text-input ``custom_id -> value`` pairs.

    By default each text input sits in an action row (classic modals); ``labels=True`` wraps them
    in Label components (type 18) like modals built with ``discord.ui.Label``.
    """
    components: list[JSON] = []
    for index, (input_id, value) in enumerate(values.items(), start=1):
        text: JSON = {"type": TEXT_INPUT, "id": index * 2, "custom_id": input_id, "value": value}
        if labels:
            components.append({"type": LABEL, "id": index * 2 - 1, "component": text})
        else:
            components.append({"type": ACTION_ROW, "id": index * 2 - 1, "components": [text]})
    data: JSON = {"custom_id": custom_id, "components": components}
    return interaction(MODAL_SUBMIT, data, **ctx)
