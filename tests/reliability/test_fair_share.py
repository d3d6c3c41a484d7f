"""One server cannot slow every server.

A moderator of server B holds 500 entries of the maximum size and sends 80 `/qa edit id:`
autocomplete events as fast as Discord would deliver them, while members of server A ask
questions. Before: each autocomplete held the event loop for 137–173 ms and `/ask` in A took up
to 10.7 s. Now the autocomplete has a per-member and per-server budget (discord.py answers the
excess with no choices), its heavy work runs off the event loop, and /ask in A stays fast.
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path

import pytest

from bot.core.limits import (
    MAX_ANSWER_CHARS,
    MAX_PHRASING_CHARS,
    MAX_PHRASINGS,
    QA_AUTOCOMPLETE_PER_MEMBER,
)
from bot.core.models import Citation, Entry
from tests.discord_app.qa_helpers import MOD, qa, qa_autocomplete
from tests.fakediscord import GUILD_ID, payloads, snowflake
from tests.reliability.conftest import ReliabilityMetrics, percentile
from tests.reliability.helpers import ask_payload, live_bot, respond, settings_for

pytestmark = pytest.mark.reliability

SERVER_B = GUILD_ID + 2000
#: Event-loop pauses of 100 ms or more tolerated during the flood (the machine's, not the bot's).
STRAY_PAUSES = 2
#: Event-loop time one served heavy autocomplete may take beyond a cheap interaction's (before
#: the fix: 137-173 ms; measured now: 8-20 ms).
LOOP_PER_SERVED = 0.05
STAND = "We stand together with Ukraine against President Putin\u2019s war"
EXCERPTS = [
    STAND,
    "attended by U.S. Secretary of State Antony J. Blinken",
    "extremely meaningful exchange of views",
    "meeting in Washington, D.C.",
    "Secretary Austin said",
]


def big_entry(n: int) -> Entry:
    pad = " lorem ipsum dolor" * 40
    return Entry(
        id=f"big-entry-{n:03d}",
        questions=[
            f"What is big question {n} number {k}?{pad}"[:MAX_PHRASING_CHARS] for k in range(MAX_PHRASINGS)
        ],
        answer=(f"Answer {n}." + pad * 5)[:MAX_ANSWER_CHARS],
        citations=[Citation(source="article", excerpt=e, speaker="Someone") for e in EXCERPTS],
        tags=[f"tag{k}" for k in range(10)],
    )


def busy_time(gaps: list[float]) -> float:
    """How long the event loop was kept from a 1 ms ticker (the time past each tick's sleep)."""
    return sum(max(0.0, gap - 0.002) for gap in gaps)


async def test_a_heavy_server_does_not_slow_another(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics
) -> None:
    async with live_bot(settings_for(tmp_path)) as live:
        await live.assistant.store.import_entries(
            SERVER_B, [big_entry(n) for n in range(500)], int(MOD["id"])
        )
        stop = asyncio.Event()
        gaps: list[float] = []

        async def ticker(into: list[float], until: asyncio.Event) -> None:
            last = time.perf_counter()
            while not until.is_set():
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                into.append(now - last)
                last = now

        # The loop's rhythm with the same traffic made cheap: 80 /ask autocompletes (in memory)
        # pass through the same fake Discord, which runs on this loop too.
        warm_up = payloads.autocomplete("ask", [payloads.option("question", "who", focused=True)])
        await live.fake.dispatch("INTERACTION_CREATE", warm_up)  # first-use loads are not the flood's
        await live.fake.wait_for_interaction_response(warm_up, timeout=30)
        quiet: list[float] = []
        calm = asyncio.Event()
        measuring = asyncio.create_task(ticker(quiet, calm))
        cheap = [
            payloads.autocomplete("ask", [payloads.option("question", f"who atten {n}", focused=True)])
            for n in range(80)
        ]
        for event in cheap:
            await live.fake.dispatch("INTERACTION_CREATE", event)
        for event in cheap:
            await live.fake.wait_for_interaction_response(event, timeout=30)
        calm.set()
        await measuring

        async def asker() -> list[float]:
            took: list[float] = []
            while not stop.is_set():
                started = time.monotonic()
                body = await respond(live, ask_payload("Who attended the meeting?", channel_id=snowflake()))
                assert body["type"] == 4
                took.append(time.monotonic() - started)
                await asyncio.sleep(0.02)
            return took

        with reliability_metrics.fault(
            "a server of 500 maximum entries floods /qa autocomplete", "fair share"
        ):
            ticking = asyncio.create_task(ticker(gaps, stop))
            asking = asyncio.create_task(asker())
            typed = ["", "big", "big-entry-1", "question 7", "lorem", "zzz"]
            events = [
                qa_autocomplete(
                    "edit", [payloads.option("id", typed[n % len(typed)], focused=True)], guild_id=SERVER_B
                )
                for n in range(80)
            ]
            for event in events:
                await live.fake.dispatch("INTERACTION_CREATE", event)
            answered = [await live.fake.wait_for_interaction_response(e, timeout=30) for e in events]
            stop.set()
            ask_times = await asking
            await ticking

            served = sum(1 for r in answered if r.json["data"]["choices"])
            assert served <= QA_AUTOCOMPLETE_PER_MEMBER[0], f"{served} autocompletes served: no budget"
            worst_ask, worst_gap = max(ask_times), max(gaps)
            print(
                f"fair share: {served}/80 autocompletes served; /ask in server A p50 "
                f"{percentile(ask_times, 50) * 1000:.1f} ms, max {worst_ask * 1000:.1f} ms "
                f"over {len(ask_times)} questions; "
                f"event loop longest stall {worst_gap * 1000:.1f} ms, "
                f"p99 {percentile(gaps, 99) * 1000:.1f} ms "
                f"(80 cheap autocompletes instead: p99 {percentile(quiet, 99) * 1000:.1f} ms)"
            )
            assert worst_ask < 1.0, f"/ask in another server took {worst_ask:.2f} s"
            # Before, every one of the 80 autocompletes held the loop for 137-173 ms; a busy
            # machine can pause any process once or twice, so stray pauses are not counted.
            # The loop's busy time (every tick past its 1 ms sleep) beyond what as many of the
            # cheapest interactions cost, per autocomplete served: before the fix, each held the
            # loop 137-173 ms; now the matching runs off the loop and the rest costs far less.
            busy, cheap_busy = busy_time(gaps), busy_time(quiet)
            per_served = (busy - cheap_busy) / max(1, served)
            print(
                f"fair share: event loop busy {busy * 1000:.0f} ms (80 cheap: {cheap_busy * 1000:.0f} ms), "
                f"{per_served * 1000:.1f} ms more per autocomplete served"
            )
            assert per_served < LOOP_PER_SERVED, (
                f"each heavy autocomplete served kept the event loop {per_served * 1000:.0f} ms more "
                f"than a cheap one (busy {busy * 1000:.0f} ms, 80 cheap: {cheap_busy * 1000:.0f} ms)"
            )
            stalls = [g for g in gaps if g >= 0.1]
            assert len(stalls) <= STRAY_PAUSES, (
                f"the event loop stalled {len(stalls)} times (longest {worst_gap * 1000:.0f} ms)"
            )
        gc.unfreeze()


async def test_qa_commands_have_a_member_budget(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics
) -> None:
    async with live_bot(settings_for(tmp_path)) as live:
        with reliability_metrics.fault("one moderator floods /qa list", "fair share"):
            bodies = [await respond(live, qa("list")) for _ in range(25)]
            refused = [b for b in bodies if "using /qa quickly" in (b["data"].get("content") or "")]
            assert len(refused) == 25 - 20
            assert all(b["type"] == 4 and b["data"]["flags"] & 64 for b in refused)
