"""The fake REST API: the routes a discord.py bot uses, answered with Discord-shaped documents.

Paths are matched relative to the API base (``/api/v10``). Handlers get the already-recorded
request and return a :class:`Reply`; the server turns it into a response whose ``Content-Type`` is
exactly ``application/json`` (discord.py compares the header verbatim, so aiohttp's
``json_response`` - which appends ``; charset=utf-8`` - would make it treat every body as text).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from . import payloads
from .ids import CHANNEL_ID, snowflake
from .recorder import RecordedRequest

JSON = dict[str, Any]

EPHEMERAL, LOADING = 1 << 6, 1 << 7
# Message types Discord gives interaction responses.
MSG_DEFAULT, MSG_REPLY, MSG_CHAT_INPUT_COMMAND, MSG_CONTEXT_MENU_COMMAND = 0, 19, 20, 23
# Interaction callback types.
CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE_MESSAGE = 4, 5, 6, 7
CB_AUTOCOMPLETE, CB_MODAL, CB_LAUNCH_ACTIVITY = 8, 9, 12

UnknownRoutes = Literal["auto", "empty", "not_found"]


@dataclass
class Reply:
    """What the fake answers. ``body=None`` means an empty body (use with 204)."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, message: str, code: int) -> Reply:
    return Reply(status, {"message": message, "code": code})


Handler = Callable[[RecordedRequest, re.Match[str]], Awaitable[Reply]]
EchoHook = Callable[[JSON], Awaitable[None]]


@dataclass
class RouteEntry:
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    remaining: int | None = None  # None: forever


S = r"(\d+)"  # snowflake path segment
T = r"([^/]+)"  # token path segment


class RestApi:
    """REST routes plus the little state they need (messages, interactions, commands, users)."""

    def __init__(
        self,
        *,
        bot_user: JSON,
        app_info: JSON,
        guilds: list[JSON],
        unknown_routes: UnknownRoutes = "auto",
    ) -> None:
        self.bot_user = bot_user
        self.app_info = app_info
        self.unknown_routes: UnknownRoutes = unknown_routes
        self.gateway_url = ""  # set by the server once its port is known
        self.echo: EchoHook | None = None  # set to echo bot messages back as MESSAGE_CREATE
        self.recommended_shards = 1  # GET /gateway/bot "shards"
        self.max_concurrency = 1  # and its session_start_limit.max_concurrency

        self.users: dict[str, JSON] = {bot_user["id"]: bot_user, app_info["owner"]["id"]: app_info["owner"]}
        self.channels: dict[str, JSON] = {c["id"]: c for g in guilds for c in g.get("channels", [])}
        self.channel_guild: dict[str, str] = {c["id"]: g["id"] for g in guilds for c in g.get("channels", [])}
        self.dm_channels: dict[str, JSON] = {}  # by recipient user id
        self.messages: dict[str, JSON] = {}
        self.interactions: dict[str, JSON] = {}  # by interaction id
        self.interactions_by_token: dict[str, JSON] = {}
        self.acknowledged: set[str] = set()
        self.original_response: dict[str, str] = {}  # interaction token -> message id
        self.commands: dict[str, list[JSON]] = {}  # "global" or guild id -> synced commands

        self.overrides: list[RouteEntry] = []
        self.routes: list[RouteEntry] = []
        self._build_routes()

    # ------------------------------------------------------------------ routing

    def _add(self, method: str, path: str, handler: Handler) -> None:
        self.routes.append(RouteEntry(method, re.compile(f"^{path}$"), handler))

    def _build_routes(self) -> None:
        a = self._add
        a("GET", r"/users/@me", self._get_me)
        a("GET", rf"/users/{S}", self._get_user)
        a("POST", r"/users/@me/channels", self._create_dm)
        a("GET", r"/oauth2/applications/@me", self._get_app)
        a("GET", r"/applications/@me", self._get_app)
        a("GET", r"/gateway", self._get_gateway)
        a("GET", r"/gateway/bot", self._get_gateway_bot)
        a("PUT", rf"/applications/{S}/commands", self._put_commands)
        a("PUT", rf"/applications/{S}/guilds/{S}/commands", self._put_commands)
        a("GET", rf"/applications/{S}/commands", self._get_commands)
        a("GET", rf"/applications/{S}/guilds/{S}/commands", self._get_commands)
        a("POST", rf"/applications/{S}/commands", self._post_command)
        a("POST", rf"/applications/{S}/guilds/{S}/commands", self._post_command)
        a("POST", rf"/interactions/{S}/{T}/callback", self._callback)
        a("POST", rf"/webhooks/{S}/{T}", self._followup)
        a("GET", rf"/webhooks/{S}/{T}/messages/(@original|\d+)", self._get_webhook_message)
        a("PATCH", rf"/webhooks/{S}/{T}/messages/(@original|\d+)", self._edit_webhook_message)
        a("DELETE", rf"/webhooks/{S}/{T}/messages/(@original|\d+)", self._delete_webhook_message)
        a("GET", rf"/channels/{S}", self._get_channel)
        a("POST", rf"/channels/{S}/messages", self._post_channel_message)
        a("GET", rf"/channels/{S}/messages/{S}", self._get_channel_message)
        a("PATCH", rf"/channels/{S}/messages/{S}", self._edit_channel_message)
        a("DELETE", rf"/channels/{S}/messages/{S}", self._delete_channel_message)
        a("POST", rf"/channels/{S}/typing", self._no_content)
        a("PUT", rf"/channels/{S}/messages/{S}/reactions/[^/]+/@me", self._no_content)
        a("DELETE", rf"/channels/{S}/messages/{S}/reactions/.*", self._no_content)

    async def handle(self, req: RecordedRequest) -> Reply:
        for entry in (*self.overrides, *self.routes):
            if entry.method not in ("*", req.method):
                continue
            match = entry.pattern.search(req.path)
            if match is None:
                continue
            if entry.remaining is not None:
                if entry.remaining <= 0:
                    continue
                entry.remaining -= 1
            return await entry.handler(req, match)
        return self._unknown(req)

    def _unknown(self, req: RecordedRequest) -> Reply:
        mode = self.unknown_routes
        if mode == "not_found" or (mode == "auto" and req.method == "GET"):
            return error(404, "404: Not Found", 0)
        return Reply(200, {})

    # ------------------------------------------------------------------ state helpers

    def remember(self, event: str, data: JSON) -> None:
        """Learn users, DM channels and interactions from an event the test dispatches."""
        for doc in _user_docs(data):
            self.users.setdefault(doc["id"], {k: v for k, v in doc.items() if k != "member"})
        if event == "INTERACTION_CREATE":
            self.interactions[data["id"]] = data
            self.interactions_by_token[data["token"]] = data
            if "message" in data:
                self.messages.setdefault(data["message"]["id"], copy.deepcopy(data["message"]))
        elif event == "MESSAGE_CREATE":
            self.messages[data["id"]] = copy.deepcopy(data)
            if "guild_id" not in data:
                author = data["author"]
                channel = payloads.dm_channel(int(data["channel_id"]), recipient=author)
                self.dm_channels.setdefault(author["id"], channel)
                self.channels.setdefault(channel["id"], channel)

    def _new_message(
        self,
        channel_id: str,
        body: JSON,
        files: dict[str, bytes],
        *,
        author: JSON | None = None,
        message_type: int = MSG_DEFAULT,
        extra: JSON | None = None,
    ) -> JSON:
        msg = payloads.message(
            body.get("content") or "",
            author=author or self.bot_user,
            channel_id=int(channel_id),
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            attachments=_attachments(channel_id, body, files),
            flags=int(body.get("flags") or 0),
            type=message_type,
            extra=extra,
        )
        msg["tts"] = bool(body.get("tts", False))
        if body.get("nonce") is not None:
            msg["nonce"] = body["nonce"]
        reference = body.get("message_reference")
        if reference:
            ref_id = str(reference.get("message_id"))
            msg["type"] = MSG_REPLY if message_type == MSG_DEFAULT else message_type
            msg["message_reference"] = {"type": 0, "channel_id": channel_id, "message_id": ref_id}
            if channel_id in self.channel_guild:
                msg["message_reference"]["guild_id"] = self.channel_guild[channel_id]
            msg["referenced_message"] = self.messages.get(ref_id)
        self.messages[msg["id"]] = msg
        return msg

    def _edit_message(self, msg: JSON, body: JSON, files: dict[str, bytes]) -> JSON:
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ([] if key != "content" else "")
        if "attachments" in body or files:
            msg["attachments"] = _attachments(msg["channel_id"], body, files)
        if "flags" in body and body["flags"] is not None:
            msg["flags"] = int(body["flags"]) | (msg["flags"] & EPHEMERAL)
        msg["flags"] &= ~LOADING  # editing a deferred response replaces the "thinking..." state
        msg["edited_timestamp"] = payloads.timestamp()
        return msg

    async def _echo(self, msg: JSON) -> None:
        if self.echo is None or msg["flags"] & EPHEMERAL:  # ephemeral messages are never broadcast
            return
        event = copy.deepcopy(msg)
        guild_id = self.channel_guild.get(msg["channel_id"])
        if guild_id is not None:
            event["guild_id"] = guild_id
            event["member"] = payloads.member(include_user=False)
        await self.echo(event)

    def _interaction_channel(self, interaction: JSON | None) -> str:
        if interaction is None:
            return str(CHANNEL_ID)
        return str(interaction.get("channel", {}).get("id") or interaction.get("channel_id"))

    def _interaction_metadata(self, interaction: JSON) -> JSON:
        invoker = interaction.get("member", {}).get("user") or interaction.get("user") or payloads.user()
        return {
            "id": interaction["id"],
            "type": interaction["type"],
            "user": invoker,
            "authorizing_integration_owners": interaction.get("authorizing_integration_owners", {}),
        }

    def _response_message(
        self, interaction: JSON | None, token: str, body: JSON, files: dict[str, bytes]
    ) -> JSON:
        """The message an interaction response creates (original response or follow-up)."""
        message_type = MSG_DEFAULT
        extra: JSON = {"webhook_id": str(self.app_info["id"]), "application_id": str(self.app_info["id"])}
        if interaction is not None:
            extra["interaction_metadata"] = self._interaction_metadata(interaction)
            if interaction["type"] == payloads.APPLICATION_COMMAND and token not in self.original_response:
                command_type = interaction.get("data", {}).get("type", payloads.CHAT_INPUT)
                is_chat = command_type == payloads.CHAT_INPUT
                message_type = MSG_CHAT_INPUT_COMMAND if is_chat else MSG_CONTEXT_MENU_COMMAND
        return self._new_message(
            self._interaction_channel(interaction), body, files, message_type=message_type, extra=extra
        )

    # ------------------------------------------------------------------ identity & gateway

    async def _get_me(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        return Reply(200, self.bot_user)

    async def _get_user(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        doc = self.users.get(m[1])
        return Reply(200, doc) if doc else error(404, "Unknown User", 10013)

    async def _get_app(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        return Reply(200, self.app_info)

    async def _get_gateway(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        return Reply(200, {"url": self.gateway_url})

    async def _get_gateway_bot(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": self.max_concurrency}
        body = {"url": self.gateway_url, "shards": self.recommended_shards, "session_start_limit": limit}
        return Reply(200, body)

    async def _create_dm(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        recipient_id = str((req.json or {}).get("recipient_id"))
        channel = self.dm_channels.get(recipient_id)
        if channel is None:
            recipient = self.users.get(recipient_id) or payloads.user(int(recipient_id), f"u{recipient_id}")
            channel = payloads.dm_channel(snowflake(), recipient=recipient)
            self.dm_channels[recipient_id] = channel
            self.channels[channel["id"]] = channel
        return Reply(200, channel)

    # ------------------------------------------------------------------ application commands

    @staticmethod
    def _scope(m: re.Match[str]) -> str:
        return m[2] if m.lastindex and m.lastindex >= 2 else "global"

    def _synced_command(self, scope: str, cmd: JSON, previous: list[JSON]) -> JSON:
        kind = cmd.get("type", payloads.CHAT_INPUT)
        old = next((c for c in previous if c["name"] == cmd["name"] and c["type"] == kind), None)
        doc: JSON = {
            "id": old["id"] if old else str(snowflake()),
            "application_id": str(self.app_info["id"]),
            "version": str(snowflake()),
            "type": kind,
            "name": cmd["name"],
            "name_localizations": cmd.get("name_localizations"),
            "description": cmd.get("description", ""),
            "description_localizations": cmd.get("description_localizations"),
            "options": cmd.get("options", []),
            "default_member_permissions": cmd.get("default_member_permissions"),
            "dm_permission": cmd.get("dm_permission", True),
            "contexts": cmd.get("contexts"),
            "integration_types": cmd.get("integration_types", [0]),
            "nsfw": cmd.get("nsfw", False),
        }
        if scope != "global":
            doc["guild_id"] = scope
        return doc

    async def _put_commands(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        scope = self._scope(m)
        previous = self.commands.get(scope, [])
        synced = [self._synced_command(scope, c, previous) for c in (req.json or [])]
        self.commands[scope] = synced
        return Reply(200, synced)

    async def _get_commands(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        return Reply(200, self.commands.get(self._scope(m), []))

    async def _post_command(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        scope = self._scope(m)
        commands = self.commands.setdefault(scope, [])
        doc = self._synced_command(scope, req.json or {}, commands)
        commands[:] = [c for c in commands if c["id"] != doc["id"]] + [doc]
        return Reply(201, doc)

    # ------------------------------------------------------------------ interactions

    async def _callback(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        interaction_id, token = m[1], m[2]
        if interaction_id in self.acknowledged:
            return error(400, "Interaction has already been acknowledged.", 40060)
        self.acknowledged.add(interaction_id)
        body = req.json or {}
        cb_type = body.get("type")
        data = body.get("data") or {}
        interaction = self.interactions.get(interaction_id)
        callback: JSON = {"id": interaction_id, "type": interaction["type"] if interaction else 2}
        resource: JSON = {"type": cb_type}

        if cb_type in (CB_MESSAGE, CB_DEFERRED_MESSAGE):
            if cb_type == CB_DEFERRED_MESSAGE:
                data = {"flags": int(data.get("flags") or 0) | LOADING}
            msg = self._response_message(interaction, token, data, req.files)
            self.original_response[token] = msg["id"]
            callback["response_message_id"] = msg["id"]
            callback["response_message_loading"] = cb_type == CB_DEFERRED_MESSAGE
            callback["response_message_ephemeral"] = bool(msg["flags"] & EPHEMERAL)
            if cb_type == CB_MESSAGE:  # Discord documents resource.message only for types 4 and 7
                resource["message"] = msg
            await self._echo(msg)
        elif cb_type in (CB_DEFERRED_UPDATE, CB_UPDATE_MESSAGE):
            # Component/modal responses that act on the message carrying the component.
            target = (interaction or {}).get("message")
            if target is not None:
                msg = self.messages.setdefault(target["id"], copy.deepcopy(target))
                self.original_response[token] = msg["id"]
                if cb_type == CB_UPDATE_MESSAGE:
                    self._edit_message(msg, data, req.files)
                    callback["response_message_id"] = msg["id"]
                    resource["message"] = msg
        elif cb_type == CB_LAUNCH_ACTIVITY:
            resource["activity_instance"] = {"id": f"i-{snowflake()}"}
            callback["activity_instance_id"] = resource["activity_instance"]["id"]
        return Reply(200, {"interaction": callback, "resource": resource})

    def _webhook_target(self, token: str, which: str) -> JSON | None:
        message_id = self.original_response.get(token) if which == "@original" else which
        return self.messages.get(message_id) if message_id else None

    async def _followup(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        token = m[2]
        interaction = self.interactions_by_token.get(token)
        msg = self._response_message(interaction, token, req.json or {}, req.files)
        await self._echo(msg)
        if req.query.get("wait") in ("0", "false", "False"):
            return Reply(204)
        return Reply(200, msg)

    async def _get_webhook_message(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        msg = self._webhook_target(m[2], m[3])
        return Reply(200, msg) if msg else error(404, "Unknown Message", 10008)

    async def _edit_webhook_message(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        msg = self._webhook_target(m[2], m[3])
        if msg is None:
            return error(404, "Unknown Message", 10008)
        return Reply(200, self._edit_message(msg, req.json or {}, req.files))

    async def _delete_webhook_message(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        msg = self._webhook_target(m[2], m[3])
        if msg is None:
            return error(404, "Unknown Message", 10008)
        self.messages.pop(msg["id"], None)
        return Reply(204)

    # ------------------------------------------------------------------ channels

    async def _get_channel(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        channel = self.channels.get(m[1])
        return Reply(200, channel) if channel else error(404, "Unknown Channel", 10003)

    async def _post_channel_message(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        msg = self._new_message(m[1], req.json or {}, req.files)
        await self._echo(msg)
        return Reply(200, msg)

    def _channel_message(self, m: re.Match[str]) -> JSON | None:
        msg = self.messages.get(m[2])
        return msg if msg is not None and msg["channel_id"] == m[1] else None

    async def _get_channel_message(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        msg = self._channel_message(m)
        return Reply(200, msg) if msg else error(404, "Unknown Message", 10008)

    async def _edit_channel_message(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        msg = self._channel_message(m)
        if msg is None:
            return error(404, "Unknown Message", 10008)
        return Reply(200, self._edit_message(msg, req.json or {}, req.files))

    async def _delete_channel_message(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        msg = self._channel_message(m)
        if msg is None:
            return error(404, "Unknown Message", 10008)
        self.messages.pop(msg["id"], None)
        return Reply(204)

    async def _no_content(self, req: RecordedRequest, m: re.Match[str]) -> Reply:
        return Reply(204)


def _attachments(channel_id: str, body: JSON, files: dict[str, bytes]) -> list[JSON]:
    """Attachment objects for uploaded files (kept attachments from ``body`` pass through)."""
    uploaded = list(files.items())
    result: list[JSON] = []
    for entry in body.get("attachments") or []:
        index = entry.get("id")
        if isinstance(index, int) and index < len(uploaded):  # a new upload: id is the file index
            filename, content = uploaded[index]
            attachment_id = str(snowflake())
            url = f"https://cdn.discordapp.com/attachments/{channel_id}/{attachment_id}/{filename}"
            result.append(
                {
                    "id": attachment_id,
                    "filename": filename,
                    "size": len(content),
                    "url": url,
                    "proxy_url": url.replace("cdn.discordapp.com", "media.discordapp.net"),
                    "content_type": "application/octet-stream",
                    "description": entry.get("description"),
                }
            )
        else:  # an existing attachment being kept on edit
            result.append(entry)
    return result


def _user_docs(data: Any) -> list[JSON]:
    """All user objects nested in an event payload (author, member.user, user, mentions, resolved)."""
    found: list[JSON] = []
    if isinstance(data, dict):
        if {"id", "username", "discriminator"} <= data.keys():
            found.append(data)
        for value in data.values():
            found.extend(_user_docs(value))
    elif isinstance(data, list):
        for value in data:
            found.extend(_user_docs(value))
    return found
