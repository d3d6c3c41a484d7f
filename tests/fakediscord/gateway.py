"""The fake gateway: HELLO / IDENTIFY -> READY + GUILD_CREATE, heartbeats, RESUME with replay.

Frames are plain TEXT JSON. discord.py always asks for transport compression in the connect URL
(``compress=zlib-stream``, or ``zstd-stream`` when ``zstandard`` is installed) but only runs the
decompressor on BINARY frames, so uncompressed TEXT frames are accepted and the query is ignored.

One session is tracked per shard (the latest IDENTIFY for it; a client that does not shard is
shard 0). Like Discord, a connection that IDENTIFYs with ``shard: [id, count]`` gets only the
guilds with ``(guild_id >> 22) % count == id``, and an event goes to the session of the shard that
owns its guild; events without a guild (direct messages) go to shard 0. Every dispatch gets the
session's next sequence number and is kept in its history, so events dispatched while the client
is disconnected are replayed when it RESUMEs - as Discord does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .recorder import GatewayFrame, Log

JSON = dict[str, Any]
_log = logging.getLogger(__name__)

# Gateway opcodes.
DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE_UPDATE, RESUME, RECONNECT = 0, 1, 2, 3, 6, 7
REQUEST_GUILD_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11
# Close code: "You sent an invalid shard when identifying."
INVALID_SHARD = 4010


@dataclass
class GatewayConnection:
    """One websocket connection from the client (a new one after every reconnect)."""

    index: int
    path: str  # "/" for the default gateway, "/resume" for resume_gateway_url
    query: dict[str, str]
    ws: web.WebSocketResponse
    transport: asyncio.Transport | None
    identified: bool = False
    resumed: bool = False
    close_code: int | None = None  # the fake's code if it closed the socket, else the client's

    async def send(self, frame: JSON) -> None:
        # The client may be gone already; the frame stays in the session history for a RESUME.
        with contextlib.suppress(ConnectionError, RuntimeError):
            await self.ws.send_str(json.dumps(frame))


@dataclass
class GatewaySession:
    session_id: str
    shard: tuple[int, int] | None = None  # (id, count) from IDENTIFY; None: not sharded
    seq: int = 0
    history: list[JSON] = field(default_factory=list)
    connection: GatewayConnection | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @property
    def shard_id(self) -> int:
        return self.shard[0] if self.shard else 0

    def owns(self, guild_id: int | None) -> bool:
        """Whether Discord would send this guild's events (None: a DM) to this session."""
        if guild_id is None or self.shard is None:
            return self.shard_id == 0
        shard_id, count = self.shard
        return (guild_id >> 22) % count == shard_id


@dataclass(frozen=True)
class Identify:
    """One IDENTIFY received: which shard, when (``time.monotonic()``), on which connection."""

    shard: tuple[int, int] | None
    time: float
    connection: int


class Gateway:
    """Gateway state machine; :class:`~tests.fakediscord.server.FakeDiscord` owns one."""

    def __init__(
        self,
        *,
        bot_user: JSON,
        application: JSON,
        guilds: list[JSON],
        heartbeat_interval_ms: int,
    ) -> None:
        self.bot_user = bot_user
        self.application = application  # {"id": ..., "flags": ...} as sent in READY
        self.guilds = guilds
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.resume_url = ""  # set by the server once its port is known
        self.connections: list[GatewayConnection] = []
        self.frames: Log[GatewayFrame] = Log()
        self.identify_payloads: list[JSON] = []
        self.identifies: list[Identify] = []
        self.sessions: dict[int, GatewaySession] = {}  # by shard id

    @property
    def session(self) -> GatewaySession | None:
        """Shard 0's session: the only one of a client that does not shard."""
        return self.sessions.get(0)

    def session_for(self, guild_id: int | None) -> GatewaySession:
        """The session Discord would send an event of ``guild_id`` (None: a DM) to."""
        for session in self.sessions.values():
            if session.owns(guild_id):
                return session
        where = f"guild {guild_id}" if guild_id is not None else "direct messages (shard 0)"
        raise RuntimeError(f"no gateway session for {where}: its shard has not IDENTIFYed")

    # ------------------------------------------------------------------ websocket endpoint

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(timeout=5.0, max_msg_size=0)
        await ws.prepare(request)
        conn = GatewayConnection(
            index=len(self.connections),
            path=request.path,
            query=dict(request.query),
            ws=ws,
            # aiohttp types it as BaseTransport; for a TCP connection it is always a Transport.
            transport=request.transport if isinstance(request.transport, asyncio.Transport) else None,
        )
        self.connections.append(conn)
        hello = {"heartbeat_interval": self.heartbeat_interval_ms}
        await conn.send({"op": HELLO, "d": hello, "s": None, "t": None})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await self._on_frame(conn, json.loads(msg.data))
        finally:
            if conn.close_code is None:
                conn.close_code = ws.close_code
            for session in self.sessions.values():
                if session.connection is conn:
                    session.connection = None
        return ws

    async def _on_frame(self, conn: GatewayConnection, frame: JSON) -> None:
        op = frame.get("op")
        raw = frame.get("d")
        d: JSON = raw if isinstance(raw, dict) else {}
        await self.frames.add(
            GatewayFrame(op=op if isinstance(op, int) else -1, d=raw, connection=conn.index)
        )
        if op == HEARTBEAT:
            await conn.send({"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == IDENTIFY:
            await self._identify(conn, d)
        elif op == RESUME:
            await self._resume(conn, d)
        elif op == REQUEST_GUILD_MEMBERS:
            await self._send_member_chunk(d)
        # PRESENCE_UPDATE, VOICE_STATE_UPDATE, ...: recorded only.

    async def _identify(self, conn: GatewayConnection, d: JSON) -> None:
        self.identify_payloads.append(d)
        shard = _shard(d.get("shard"))
        self.identifies.append(Identify(shard, time.monotonic(), conn.index))
        if shard is not None and not 0 <= shard[0] < shard[1]:
            conn.close_code = INVALID_SHARD
            await conn.ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        session = GatewaySession(session_id=secrets.token_hex(16), shard=shard)
        self.sessions[session.shard_id] = session
        guilds = [g for g in self.guilds if session.owns(int(g["id"]))]
        ready: JSON = {
            "v": 10,
            "user": self.bot_user,
            "guilds": [{"id": g["id"], "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_url,
            "application": self.application,
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["local"],
            "auth": {},
            "user_settings": {},
            "_trace": ['["fakediscord-gateway",{"micros":0}]'],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        conn.identified = True
        async with session.lock:
            session.connection = conn
            await self._emit_locked(session, "READY", ready)
            for guild in guilds:
                await self._emit_locked(session, "GUILD_CREATE", guild)

    async def _resume(self, conn: GatewayConnection, d: JSON) -> None:
        session = next((s for s in self.sessions.values() if s.session_id == d.get("session_id")), None)
        if session is None:
            # Not resumable: the client drops its session and IDENTIFYs on a new connection.
            await conn.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        last_seen = d.get("seq") or 0
        conn.resumed = True
        async with session.lock:
            session.connection = conn
            for frame in session.history:
                if frame["s"] > last_seen:
                    await conn.send(frame)
            await self._emit_locked(session, "RESUMED", {"_trace": ['["fakediscord-gateway",{"micros":0}]']})

    async def _send_member_chunk(self, d: JSON) -> None:
        guild_id = str(d.get("guild_id"))
        members: list[JSON] = next((g.get("members", []) for g in self.guilds if g["id"] == guild_id), [])
        chunk: JSON = {
            "guild_id": guild_id,
            "members": members,
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce") is not None:
            chunk["nonce"] = d["nonce"]
        await self.dispatch("GUILD_MEMBERS_CHUNK", chunk, guild_id=int(guild_id))

    # ------------------------------------------------------------------ server -> client

    async def _emit_locked(self, session: GatewaySession, event: str, data: Any) -> int:
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.history.append(frame)
        if session.connection is not None:
            await session.connection.send(frame)
        return session.seq

    async def dispatch(self, event: str, data: Any, *, guild_id: int | None = None) -> int:
        """Send a DISPATCH (op 0) on the session of the shard that owns ``guild_id`` (None: a DM,
        shard 0) with that session's next sequence number; returns that number.

        If the client is momentarily disconnected the event is only queued in the session
        history and is delivered when the client RESUMEs.
        """
        if not self.sessions:
            raise RuntimeError("no gateway session yet: the client has not IDENTIFYed")
        session = self.session_for(guild_id)
        async with session.lock:
            return await self._emit_locked(session, event, data)

    def _live(self, shard: int = 0) -> GatewayConnection:
        session = self.sessions.get(shard)
        if session is None or session.connection is None:
            raise RuntimeError(f"no live gateway connection for shard {shard}")
        return session.connection

    async def close(self, code: int = 4000, *, abort: bool = False, shard: int = 0) -> None:
        """Close the live connection; the session survives so the client can RESUME.

        ``abort=True`` drops the TCP connection without a close frame (a network failure);
        otherwise a close frame with ``code`` is sent (4000 = "unknown error", resumable).
        """
        conn = self._live(shard)
        # Detach first so events dispatched from now on go to the replay history only.
        self.sessions[shard].connection = None
        if abort and conn.transport is not None:
            conn.close_code = 1006  # "abnormal closure": what the client observes
            conn.transport.abort()
        else:
            conn.close_code = code
            await conn.ws.close(code=code, message=b"closed by fakediscord")

    async def send_op(self, op: int, d: Any = None, *, shard: int = 0) -> None:
        """Send a raw non-dispatch opcode (e.g. 7 RECONNECT, 9 INVALID_SESSION) on a shard's live socket."""
        await self._live(shard).send({"op": op, "d": d, "s": None, "t": None})

    async def shutdown(self) -> None:
        for conn in self.connections:
            if not conn.ws.closed:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.ws.close(code=1001, message=b"server shutdown"), 1.0)


def _shard(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value):
        return value[0], value[1]
    return None
