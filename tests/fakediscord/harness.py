"""Async context managers that run a fake Discord and a real discord.py client against it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

import discord
from discord.http import Route

from .ids import BOT_TOKEN
from .server import FakeDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)


@contextlib.asynccontextmanager
async def fake_discord(**options: Any) -> AsyncIterator[FakeDiscord]:
    """Start a :class:`FakeDiscord` (``options`` go to its constructor) with discord.py patched to
    use it; stop it and restore discord.py on exit."""
    async with FakeDiscord(**options) as fake:
        yield fake


@contextlib.asynccontextmanager
async def running_client(
    client: ClientT,
    *,
    token: str = BOT_TOKEN,
    ready_timeout: float = 5.0,
    close_timeout: float = 5.0,
    grace: float = 0.25,
) -> AsyncIterator[ClientT]:
    """Log ``client`` in, connect it, wait for ``on_ready``; on exit close it and drain its tasks.

    Must run inside :func:`fake_discord` (refuses to talk to the real Discord). Build the client
    with ``guild_ready_timeout=0.1`` or READY is delayed by discord.py's default 2 s.
    On exit, tasks the client spawned get ``grace`` seconds to finish before being cancelled.
    """
    if not Route.BASE.startswith("http://127.0.0.1"):
        raise RuntimeError("discord.py is not patched to a FakeDiscord; use fake_discord() first")
    before = asyncio.all_tasks()
    await client.login(token)
    connect = asyncio.create_task(client.connect(reconnect=True), name="fakediscord-client-connect")
    try:
        await _wait_ready(client, connect, ready_timeout)
        yield client
    finally:
        await client.close()
        await _drain(connect, before, close_timeout, grace)


async def _wait_ready(client: discord.Client, connect: asyncio.Task[None], seconds: float) -> None:
    ready = asyncio.create_task(client.wait_until_ready(), name="fakediscord-wait-ready")
    done, _ = await asyncio.wait({ready, connect}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    if ready in done:
        return
    ready.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ready
    if connect in done:
        connect.result()  # re-raise why the client stopped (LoginFailure, ConnectionClosed, ...)
        raise RuntimeError("client stopped before becoming ready")
    raise TimeoutError(f"client not ready within {seconds}s")


async def _drain(
    connect: asyncio.Task[None], before: set[asyncio.Task[Any]], seconds: float, grace: float
) -> None:
    """Finish the tasks the client spawned so pytest sees no "Task was destroyed but it is
    pending" warnings: the connect loop must end on its own (within ``seconds``); others (command
    invokers, view timeouts that would sleep for minutes, ...) get ``grace`` seconds, then are
    cancelled."""
    done, _ = await asyncio.wait({connect}, timeout=seconds)
    if connect not in done:
        connect.cancel()
    current = asyncio.current_task()
    spawned = {t for t in asyncio.all_tasks() if t not in before and t is not current and t is not connect}
    if spawned:
        _, pending = await asyncio.wait(spawned, timeout=grace)
        for task in pending:
            task.cancel()
    await asyncio.gather(connect, *spawned, return_exceptions=True)
    if not connect.cancelled() and (error := connect.exception()) is not None:
        raise error
