"""``FakeDiscord``: one aiohttp server on 127.0.0.1 (ephemeral port) serving REST and the gateway.

REST lives under ``/api/v10/...``; the gateway websocket at ``/`` (the default gateway URL) and at
``/resume`` (the ``resume_gateway_url`` announced in READY, so tests can tell a RESUME connection
from a fresh one). discord.py is pointed at the fake by patching two class attributes,
``discord.http.Route.BASE`` (a ``str``) and ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``
(a ``yarl.URL``); :meth:`FakeDiscord.patch_discord` restores them afterwards. Because they are
process-wide, only one patched fake can be in use at a time.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import yarl
from aiohttp import BodyPartReader, web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from . import paths, payloads
from .gateway import INVALID_SESSION, RECONNECT, Gateway, GatewayConnection, Identify
from .ids import CHANNEL_ID, GUILD_ID
from .recorder import FaultRule, GatewayFrame, Log, RecordedRequest, rate_limit_fault
from .rest import Reply, RestApi, RouteEntry, UnknownRoutes

JSON = dict[str, Any]
RouteHandler = Callable[[RecordedRequest], Reply | Awaitable[Reply]]

_API_PREFIX = re.compile(r"^/api/v\d+")


class FakeDiscord:
    """A loopback Discord for end-to-end tests of an unmodified discord.py client.

    Construct inside a running event loop, then ``async with fake:`` (start + patch discord.py)
    or use :func:`tests.fakediscord.fake_discord`.
    """

    def __init__(
        self,
        *,
        guilds: Sequence[JSON] | None = None,
        bot: JSON | None = None,
        application_flags: int = 0,
        echo_bot_messages: bool = False,
        heartbeat_interval_ms: int = 41_250,
        unknown_routes: UnknownRoutes = "auto",
        shards: int = 1,
        max_concurrency: int = 1,
    ) -> None:
        """
        :param guilds: GUILD_CREATE documents (see :func:`payloads.guild`); default: one guild with
            one text channel (``GUILD_ID`` / ``CHANNEL_ID``).
        :param bot: the bot's user document (:func:`payloads.bot_user`).
        :param application_flags: ``application.flags`` sent in READY and app info.
        :param echo_bot_messages: dispatch MESSAGE_CREATE for every non-ephemeral message the bot
            creates (channel messages, interaction responses, follow-ups), like Discord does.
        :param unknown_routes: unmatched REST calls get ``"not_found"`` 404 JSON, ``"empty"`` 200
            ``{}``, or ``"auto"``: 404 for GET, ``{}`` otherwise.
        :param shards: the shard count ``GET /gateway/bot`` recommends.
        :param max_concurrency: its ``session_start_limit.max_concurrency`` (identify buckets).
        """
        self.bot_user = bot if bot is not None else payloads.bot_user()
        # Bots share their snowflake with their application.
        self.application_id = int(self.bot_user["id"])
        self.guilds = list(guilds) if guilds is not None else [payloads.guild(bot=self.bot_user)]
        app_info = payloads.application_info(self.application_id, bot=self.bot_user, flags=application_flags)
        self.rest = RestApi(
            bot_user=self.bot_user, app_info=app_info, guilds=self.guilds, unknown_routes=unknown_routes
        )
        self.rest.recommended_shards = shards
        self.rest.max_concurrency = max_concurrency
        self.gateway = Gateway(
            bot_user=self.bot_user,
            application={"id": str(self.application_id), "flags": application_flags},
            guilds=self.guilds,
            heartbeat_interval_ms=heartbeat_interval_ms,
        )
        if echo_bot_messages:
            self.rest.echo = self._echo
        self.requests: Log[RecordedRequest] = Log()
        self.faults: list[FaultRule] = []
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._patch_stack = contextlib.ExitStack()

    # ------------------------------------------------------------------ lifecycle

    @property
    def guild_id(self) -> int:
        return int(self.guilds[0]["id"]) if self.guilds else GUILD_ID

    @property
    def channel_id(self) -> int:
        channels = self.guilds[0].get("channels", []) if self.guilds else []
        return int(channels[0]["id"]) if channels else CHANNEL_ID

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/resume", self.gateway.handle)
        app.router.add_route("*", r"/api/{version:v\d+}/{tail:.*}", self._rest_entry)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        self.gateway.resume_url = f"ws://127.0.0.1:{self.port}/resume"
        self.rest.gateway_url = f"ws://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        self._patch_stack.close()
        await self.gateway.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py's REST base and default gateway at this fake; restore on exit."""
        old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.api_base
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        self._patch_stack.enter_context(self.patch_discord())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ REST plumbing

    async def _rest_entry(self, request: web.Request) -> web.StreamResponse:
        json_body, files = await _read_body(request)
        record = RecordedRequest(
            method=request.method,
            path=_API_PREFIX.sub("", request.path),
            query=dict(request.query),
            json=json_body,
            files=files,
            headers=dict(request.headers),
        )
        fault = next((f for f in self.faults if f.consume(record.method, record.path)), None)
        if fault is not None:
            reply = Reply(fault.status, fault.body, dict(fault.headers))
        else:
            reply = await self.rest.handle(record)
        record.status, record.response = reply.status, reply.body
        await self.requests.add(record)
        return _to_response(reply)

    # ------------------------------------------------------------------ REST: inspection

    # ``timeout=`` (rather than ruff's preferred ``asyncio.timeout`` scoping) keeps test code short.
    async def wait_for_request(
        self,
        method: str,
        path: str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RecordedRequest:
        """Oldest not-yet-returned request matching ``method`` (or ``"*"``) and the ``path`` regex.

        Requests that arrived before the call count too, and each is returned only once, so
        ``trigger(); await fake.wait_for_request(...)`` never races.
        """
        return await self.requests.wait_for(lambda r: r.matches(method, path), timeout, f"{method} {path}")

    def find_requests(self, method: str, path: str) -> list[RecordedRequest]:
        """All recorded requests matching (consumed or not), oldest first."""
        return self.requests.find(lambda r: r.matches(method, path))

    async def wait_for_interaction_response(
        self,
        interaction: JSON | int | str,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> RecordedRequest:
        """The next callback POST for ``interaction`` (a payload or its id)."""
        interaction_id = interaction["id"] if isinstance(interaction, dict) else interaction
        return await self.wait_for_request("POST", paths.callback(interaction_id), timeout)

    def messages_in(self, channel_id: int | str) -> list[JSON]:
        """Messages the fake currently holds for a channel (created, edited, not deleted)."""
        return [m for m in self.rest.messages.values() if m["channel_id"] == str(channel_id)]

    # ------------------------------------------------------------------ REST: fault injection

    def fail_next(
        self,
        method: str,
        path: str,
        *,
        status: int,
        body: Any = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
    ) -> FaultRule:
        """Answer the next ``times`` matching requests with ``status``/``body`` instead of handling them."""
        rule = FaultRule(method, path, status, body, headers or {}, times)
        self.faults.append(rule)
        return rule

    def fail_with_rate_limit(
        self, method: str, path: str, *, times: int = 1, retry_after: float = 0.05, is_global: bool = False
    ) -> FaultRule:
        """429 with a ``Via`` header and JSON body, which discord.py honours by sleeping and retrying."""
        rule = rate_limit_fault(method, path, times=times, retry_after=retry_after, is_global=is_global)
        self.faults.append(rule)
        return rule

    def fail_with_server_error(self, method: str, path: str, *, times: int = 1) -> FaultRule:
        """500; note discord.py retries 5xx only after sleeping ``1 + 2 * attempt`` seconds."""
        body = {"message": "500: Internal Server Error", "code": 0}
        return self.fail_next(method, path, status=500, body=body, times=times)

    def fail_with_unknown_interaction(
        self, method: str = "POST", path: str = paths.CALLBACK, *, times: int = 1
    ) -> FaultRule:
        """404 ``Unknown interaction`` (code 10062), what Discord answers after the 3 s window."""
        return self.fail_next(
            method, path, status=404, body={"message": "Unknown interaction", "code": 10062}, times=times
        )

    def add_route(
        self,
        method: str,
        path: str,
        handler: RouteHandler | Any,
        *,
        status: int = 200,
        times: int | None = None,
    ) -> None:
        """Override (or add) a REST route. ``handler`` is a callable ``(request) -> Reply`` (sync or
        async) or a static JSON body answered with ``status``. Overrides win over built-ins."""

        async def respond(req: RecordedRequest, _match: re.Match[str]) -> Reply:
            if not callable(handler):
                return Reply(status, handler)
            result = handler(req)
            return await result if isinstance(result, Awaitable) else result

        self.rest.overrides.append(RouteEntry(method.upper(), re.compile(path), respond, times))

    # ------------------------------------------------------------------ gateway

    @property
    def identify_payloads(self) -> list[JSON]:
        """The ``d`` of every IDENTIFY received, oldest first."""
        return self.gateway.identify_payloads

    @property
    def identifies(self) -> list[Identify]:
        """Every IDENTIFY received (shard, time, connection), oldest first."""
        return self.gateway.identifies

    def command_syncs(self) -> list[RecordedRequest]:
        """Every bulk overwrite of application commands (global or one guild's), oldest first."""
        return self.find_requests("PUT", f"{paths.GLOBAL_COMMANDS}|{paths.GUILD_COMMANDS}")

    def shard_of(self, guild_id: int | None) -> int | None:
        """The shard id of the live session that gets ``guild_id``'s events (None: a DM)."""
        try:
            return self.gateway.session_for(guild_id).shard_id
        except RuntimeError:
            return None

    @property
    def gateway_connections(self) -> list[GatewayConnection]:
        return self.gateway.connections

    async def dispatch(self, event: str, data: JSON) -> int:
        """Send a gateway DISPATCH ``event`` with ``data``; returns its sequence number.

        The payload is copied (and must be JSON-serialisable). Users, DM channels and interactions
        in it are remembered so later REST calls (create DM, callbacks, follow-ups) line up.
        """
        data = json.loads(json.dumps(data))
        self.rest.remember(event, data)
        return await self.gateway.dispatch(event, data, guild_id=self._guild_of(event, data))

    def _guild_of(self, event: str, data: JSON) -> int | None:
        """The guild whose shard gets this event; None for a direct message (shard 0)."""
        if data.get("guild_id") is not None:
            return int(data["guild_id"])
        if event.startswith("GUILD_") and "id" in data:
            return int(data["id"])
        channel_guild = self.rest.channel_guild.get(str(data.get("channel_id")))
        return int(channel_guild) if channel_guild is not None else None

    async def _echo(self, message: JSON) -> None:
        try:
            self.gateway.session_for(self._guild_of("MESSAGE_CREATE", message))
        except RuntimeError:
            return  # nobody would receive it
        await self.dispatch("MESSAGE_CREATE", message)

    async def close_gateway(self, code: int = 4000, *, abort: bool = False, shard: int = 0) -> None:
        """Close the live gateway socket (``abort=True``: drop TCP without a close frame).

        The session is kept, so discord.py reconnects to ``resume_gateway_url`` and RESUMEs;
        events dispatched meanwhile are replayed. Codes 4004/4010-4014 make it give up instead.
        ``shard``: whose socket (0 for a client that does not shard).
        """
        await self.gateway.close(code, abort=abort, shard=shard)

    async def send_reconnect(self, *, shard: int = 0) -> None:
        """Send op 7 RECONNECT; discord.py closes the socket and RESUMEs on a new one."""
        await self.gateway.send_op(RECONNECT, shard=shard)

    async def send_invalid_session(self, resumable: bool = False, *, shard: int = 0) -> None:
        """Send op 9; with ``resumable=False`` the client re-IDENTIFYs (new READY)."""
        await self.gateway.send_op(INVALID_SESSION, resumable, shard=shard)

    async def wait_for_gateway_op(
        self,
        op: int,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> GatewayFrame:
        """Oldest not-yet-returned frame with opcode ``op`` sent by the client (same semantics as
        :meth:`wait_for_request`)."""
        return await self.gateway.frames.wait_for(lambda f: f.op == op, timeout, f"gateway op {op}")


async def _read_body(request: web.Request) -> tuple[Any, dict[str, bytes]]:
    """Parse a JSON or multipart (``payload_json`` + ``files[n]``) body."""
    files: dict[str, bytes] = {}
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            elif part.filename:
                name, n = part.filename, 2
                while name in files:  # keep duplicates distinguishable
                    name, n = f"{part.filename} ({n})", n + 1
                files[name] = bytes(await part.read(decode=True))
        return payload, files
    if not request.body_exists:
        return None, files
    raw = await request.read()
    try:
        return json.loads(raw), files
    except ValueError:
        return raw.decode("utf-8", "replace"), files


def _to_response(reply: Reply) -> web.Response:
    if reply.body is None:
        return web.Response(status=reply.status, headers=reply.headers)
    # Exactly "application/json": discord.py compares the header verbatim.
    headers = {"Content-Type": "application/json", **reply.headers}
    return web.Response(status=reply.status, body=json.dumps(reply.body).encode(), headers=headers)
