"""End to end over the fake Discord: INTERACTION_CREATE on the gateway to the callback POST.

The real bot (MeetingBot on the real discord.py client) talks to `tests.fakediscord`, which runs
in the same process and on the same event loop: every millisecond the fake spends encoding
gateway frames and parsing REST bodies is counted too. `stub_answer=True` replaces the matcher
with a canned answer, which measures that harness (and discord.py, rendering and the SQLite
log) without the matcher.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.answers import Answer
from bot.core.assistant import Assistant
from bot.core.models import Scope
from bot.settings import Settings

_CALLBACK = re.compile(r"^/interactions/(\d+)/[^/]+/callback$")
#: Distinct channels, so the bot's "answered that here a moment ago" guard never fires.
_FIRST_CHANNEL = 1_200_000_000_000_000_000


@dataclass(frozen=True)
class E2EResult:
    sequential_ms: list[float]  # one interaction at a time
    concurrent_ms: list[float]  # `concurrency` in flight at a time
    concurrent_seconds: float  # first dispatch to last callback, concurrent phase
    concurrent_count: int
    concurrency: int

    @property
    def per_second(self) -> float:
        return self.concurrent_count / self.concurrent_seconds if self.concurrent_seconds else 0.0


async def run(
    database: Path,
    questions: Sequence[str],
    *,
    sequential: int,
    concurrent: int,
    concurrency: int,
    stub_answer: bool = False,
) -> E2EResult:
    """Start the assistant, the fake Discord and the bot; time /ask interactions."""
    # Imported here: discord.py and the fake load only for this phase.
    from bot.discord_app.client import MeetingBot
    from tests.fakediscord import GUILD_ID, fake_discord, payloads, running_client

    settings = Settings(
        database=database,
        dev_guild_id=GUILD_ID,
        cooldown_rate=1_000_000,
        cooldown_per_seconds=1.0,
    )
    assistant = await Assistant.start(settings)
    if stub_answer:
        canned = assistant.service.answer("Who attended the meeting?")

        def answer(question: str, scope: Scope = None) -> Answer:
            return canned.model_copy(update={"question": question})

        assistant.service.answer = answer  # type: ignore[method-assign]
    try:
        async with fake_discord() as fake:
            bot = MeetingBot(assistant, settings, guild_ready_timeout=0.1)
            async with running_client(bot):
                pending: dict[str, asyncio.Future[float]] = {}
                record = fake.requests.add

                async def add(item: Any) -> None:
                    # Resolve the waiter of a callback directly: the fake's own wait_for wakes
                    # every waiter and rescans the whole log per request, which at 50 waiters
                    # would cost more than the bot.
                    await record(item)
                    match = _CALLBACK.match(item.path)
                    if match and item.method == "POST":
                        future = pending.pop(match.group(1), None)
                        if future is not None and not future.done():
                            future.set_result(item.time)

                fake.requests.add = add  # type: ignore[method-assign]
                channels = iter(range(_FIRST_CHANNEL, _FIRST_CHANNEL + 10_000_000))
                loop = asyncio.get_running_loop()

                async def interact(question: str) -> float:
                    payload = payloads.slash_command(
                        "ask", [payloads.option("question", question)], channel_id=next(channels)
                    )
                    future: asyncio.Future[float] = loop.create_future()
                    pending[payload["id"]] = future
                    start = time.monotonic()  # the fake stamps requests with time.monotonic
                    await fake.dispatch("INTERACTION_CREATE", payload)
                    end = await asyncio.wait_for(future, 10.0)
                    return (end - start) * 1000.0

                await _sequential(interact, questions, min(20, sequential))  # warm-up
                seq = await _sequential(interact, questions, sequential)
                started = time.monotonic()
                conc = await _concurrent(interact, questions, concurrent, concurrency)
                elapsed = time.monotonic() - started
    finally:
        await assistant.close()
    return E2EResult(seq, conc, elapsed, concurrent, concurrency)


async def _sequential(
    interact: Callable[[str], Awaitable[float]], questions: Sequence[str], count: int
) -> list[float]:
    return [await interact(questions[i % len(questions)]) for i in range(count)]


async def _concurrent(
    interact: Callable[[str], Awaitable[float]], questions: Sequence[str], count: int, concurrency: int
) -> list[float]:
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> float:
        async with gate:
            return await interact(questions[i % len(questions)])

    return list(await asyncio.gather(*(one(i) for i in range(count))))
