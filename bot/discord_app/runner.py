"""Starting the bot for real (`python -m bot run`) and syncing commands (`python -m bot sync`)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal

import aiohttp
import discord

from bot.core.assistant import Assistant
from bot.core.english import preload as preload_english
from bot.discord_app.client import MeetingBot
from bot.discord_app.metrics import BotMetrics, MetricsServer
from bot.logs import tag_shards
from bot.settings import Settings

log = logging.getLogger(__name__)

NO_TOKEN = (
    "DISCORD_TOKEN is not set. Create a bot in the Discord Developer Portal (Bot > Reset Token), "
    "then put DISCORD_TOKEN=... in .env or the environment. See README, 'Running it in Discord'."
)
BAD_TOKEN = (
    "Discord rejected DISCORD_TOKEN (401 Unauthorized). Reset the token in the Developer Portal "
    "(Bot > Reset Token) and update DISCORD_TOKEN."
)
MISSING_INTENT = (
    "Discord refused an intent this bot asked for. It needs no privileged intent, so check that "
    "the token belongs to this bot's application and that no code change added one."
)


class StartupError(Exception):
    """The bot cannot start; the message says what to do."""


def _token(settings: Settings) -> str:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise StartupError(NO_TOKEN)
    return token


async def run_bot(settings: Settings) -> None:
    token = _token(settings)
    if settings.shard_count is not None:
        tag_shards(settings.shard_plan().label)
    # Knowledge is loaded and indexed before the gateway connects, off the event loop's path.
    assistant = await Assistant.start(settings)
    # Changes committed by other processes (CLI imports, other shards) answer here within seconds.
    assistant.watch_changes()
    # Loaded now, in a thread, so no answer ever waits for the word list on the event loop.
    await asyncio.to_thread(preload_english)
    # The index is long-lived: keep it out of the collector's full passes, which would otherwise
    # pause answers for tens of milliseconds at thousands of entries.
    gc.freeze()
    bot = MeetingBot(assistant, settings)
    metrics: MetricsServer | None = None
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, _request_close, bot, sig)
    try:
        # Before connecting: /health says "starting" while the shards identify.
        metrics = await _start_metrics(bot, settings)
        async with bot:
            await bot.start(token)
    except discord.LoginFailure:
        raise StartupError(BAD_TOKEN) from None
    except discord.PrivilegedIntentsRequired:
        raise StartupError(MISSING_INTENT) from None
    except (aiohttp.ClientError, OSError) as exc:
        raise StartupError(f"Cannot reach Discord ({exc}). Check the network and try again.") from None
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        if metrics is not None:
            await metrics.stop()
        await assistant.close()
        log.info("stopped; database closed")


async def _start_metrics(bot: MeetingBot, settings: Settings) -> MetricsServer | None:
    if settings.metrics_port is None:
        return None
    metrics = BotMetrics()
    metrics.watch(bot)
    bot.assistant.observers.append(metrics)
    server = MetricsServer(bot, metrics, settings.metrics_host, settings.metrics_port)
    try:
        await server.start()
    except OSError as exc:
        raise StartupError(
            f"Cannot serve metrics on {settings.metrics_host}:{settings.metrics_port} ({exc.strerror}). "
            "Choose another BOT_METRICS_PORT, or unset it."
        ) from None
    return server


_closing: set[asyncio.Task[None]] = set()


def _request_close(bot: MeetingBot, sig: signal.Signals) -> None:
    log.info("received %s: closing the gateway", sig.name)
    # Keep a reference so the close task is not garbage-collected before it finishes.
    task = asyncio.ensure_future(bot.close())
    _closing.add(task)
    task.add_done_callback(_closing.discard)


async def sync_commands(settings: Settings, guild_id: int | None) -> int:
    """Log in over REST only, sync the command tree, and return how many commands were synced."""
    token = _token(settings)
    assistant = await Assistant.start(settings)
    bot = MeetingBot(assistant, settings, sync_on_start=False)
    try:
        async with bot:
            try:
                await bot.login(token)
            except discord.LoginFailure:
                raise StartupError(BAD_TOKEN) from None
            except (aiohttp.ClientError, OSError) as exc:
                raise StartupError(
                    f"Cannot reach Discord ({exc}). Check the network and try again."
                ) from None
            return len(await bot.sync_commands(guild_id))
    finally:
        await assistant.close()
