"""One server cannot slow every server.

A moderator of server B holds 500 entries of the maximum size and sends 80 `/qa edit id:`
autocomplete events as fast as Discord would deliver them, while members of server A ask
questions. Before: each autocomplete held the event loop for 137–173 ms and `/ask` in A took up
to 10.7 s. Now the autocomplete has a per-member and per-server budget (discord.py answers the
excess with no choices), the server's entries are prepared for searching once per change, in
a worker, and each search scores in rapidfuzz without holding the GIL: /ask in A stays fast
and the event loop is held for about a millisecond per search.
"""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path

import pytest

from bot.core.assistant import Assistant
from bot.core.curation import CurationService
from bot.core.english import preload as preload_english
from bot.core.limits import (
    MAX_ANSWER_CHARS,
    MAX_PHRASING_CHARS,
    MAX_PHRASINGS,
    QA_AUTOCOMPLETE_PER_MEMBER,
)
from bot.core.models import Citation, Entry
from tests.discord_app.conftest import Live
from tests.discord_app.qa_helpers import MOD, OTHER_MOD, qa, qa_autocomplete
from tests.fakediscord import GUILD_ID, payloads, snowflake
from tests.reliability.conftest import ReliabilityMetrics, percentile
from tests.reliability.helpers import ask_payload, live_bot, respond, settings_for

pytestmark = pytest.mark.reliability

SERVER_B = GUILD_ID + 2000
#: Event-loop pauses of `STALL` or more tolerated during the flood: the fake Discord's own
#: traffic, on the same loop, pauses it 40-118 ms on this shared 2-core machine (measured with
#: 80 cheap interactions instead); the flood's longest was 14-43 ms in ten runs.
STRAY_PAUSES = 2
STALL = 0.05
#: Event-loop time one served heavy autocomplete may take beyond a cheap interaction's, once the
#: server's entries are prepared: before the fix 137-173 ms; with the matching in a worker that
#: held the GIL, 20-33 ms; now -5.0 to 3.9 ms in ten runs: as much as a cheap interaction,
#: within the noise of a shared machine (both figures move with its load).
LOOP_PER_SERVED = 0.008
#: Searching the 500 entries without Discord in between: seven searches, the first of which
#: prepares them (about 200 ms of Python in a worker, whose GIL the loop takes back within
#: `GIL_SWITCH_SECONDS`), then the seven again, three times. Event-loop busy time per search
#: once prepared: measured 0.00-0.01 ms past each 2 ms tick, 2.0 ms once in the full suite (one
#: 8.7 ms pause in seven searches); the matching in a GIL-holding worker took 6-7 ms. In all,
#: preparation included: 26-143 ms (184 ms before); longest stall 5-14 ms with the
#: preparation, 2-9 ms after it (the machine's pauses: the bound only catches a search on the
#: loop).
BUSY_PER_SEARCH = 0.003
BUSY_WITH_PREPARATION = 0.3
STALL_WITH_PREPARATION = 0.03
STALL_PER_SEARCH = 0.03
WARM_ROUNDS = 3
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


class Ticker:
    """A 1 ms ticker on the event loop: each gap past its sleep is time the loop was held."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Ticker:
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    async def _tick(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            await asyncio.sleep(0.001)
            now = time.perf_counter()
            self.gaps.append(now - last)
            last = now

    @property
    def longest(self) -> float:
        return max(self.gaps, default=0.0)


async def test_a_heavy_server_does_not_slow_another(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics
) -> None:
    async with live_bot(settings_for(tmp_path)) as live:
        await live.assistant.store.import_entries(
            SERVER_B, [big_entry(n) for n in range(500)], int(MOD["id"])
        )
        # As `bot run` starts: the word list loaded in a thread, the long-lived heap frozen.
        await asyncio.to_thread(preload_english)
        gc.freeze()
        try:
            await flood_autocomplete(live, reliability_metrics)
        finally:
            gc.unfreeze()


async def flood_autocomplete(live: Live, reliability_metrics: ReliabilityMetrics) -> None:
    # The loop's rhythm with the same traffic made cheap: 80 /ask autocompletes (in memory)
    # pass through the same fake Discord, which runs on this loop too.
    warm_up = payloads.autocomplete("ask", [payloads.option("question", "who", focused=True)])
    await live.fake.dispatch("INTERACTION_CREATE", warm_up)  # first-use loads are not the flood's
    await live.fake.wait_for_interaction_response(warm_up, timeout=30)
    # Another moderator's first keystroke prepares server B's entries for searching (once per
    # change of the server; `test_searching_a_full_server_holds_the_event_loop_for_milliseconds`
    # bounds what that costs the loop). The flood then measures what each keystroke costs.
    first = qa_autocomplete(
        "edit", [payloads.option("id", "big", focused=True)], guild_id=SERVER_B, user=OTHER_MOD
    )
    async with Ticker() as preparing:
        await live.fake.dispatch("INTERACTION_CREATE", first)
        assert (await live.fake.wait_for_interaction_response(first, timeout=30)).json["data"]["choices"]
    print(
        f"fair share: the first keystroke prepared 500 entries: event loop busy "
        f"{busy_time(preparing.gaps) * 1000:.0f} ms, longest stall {preparing.longest * 1000:.1f} ms"
    )
    cheap = [
        payloads.autocomplete("ask", [payloads.option("question", f"who atten {n}", focused=True)])
        for n in range(80)
    ]
    async with Ticker() as quiet:
        for event in cheap:
            await live.fake.dispatch("INTERACTION_CREATE", event)
        for event in cheap:
            await live.fake.wait_for_interaction_response(event, timeout=30)

    stop = asyncio.Event()

    async def asker() -> list[float]:
        took: list[float] = []
        while not stop.is_set():
            started = time.monotonic()
            body = await respond(live, ask_payload("Who attended the meeting?", channel_id=snowflake()))
            assert body["type"] == 4
            took.append(time.monotonic() - started)
            await asyncio.sleep(0.02)
        return took

    with reliability_metrics.fault("a server of 500 maximum entries floods /qa autocomplete", "fair share"):
        async with Ticker() as flood:
            asking = asyncio.create_task(asker())
            typed = ["", "big", "big-entry-1", "question 7", "lorem", "zzz"]
            events = [
                qa_autocomplete(
                    "edit",
                    [payloads.option("id", typed[n % len(typed)], focused=True)],
                    guild_id=SERVER_B,
                )
                for n in range(80)
            ]
            for event in events:
                await live.fake.dispatch("INTERACTION_CREATE", event)
            answered = [await live.fake.wait_for_interaction_response(e, timeout=30) for e in events]
            stop.set()
            ask_times = await asking

        served = sum(1 for r in answered if r.json["data"]["choices"])
        assert served <= QA_AUTOCOMPLETE_PER_MEMBER[0], f"{served} autocompletes served: no budget"
        worst_ask = max(ask_times)
        print(
            f"fair share: {served}/80 autocompletes served; /ask in server A p50 "
            f"{percentile(ask_times, 50) * 1000:.1f} ms, max {worst_ask * 1000:.1f} ms "
            f"over {len(ask_times)} questions; "
            f"event loop longest stall {flood.longest * 1000:.1f} ms, "
            f"p99 {percentile(flood.gaps, 99) * 1000:.1f} ms "
            f"(80 cheap autocompletes instead: longest {quiet.longest * 1000:.1f} ms, "
            f"p99 {percentile(quiet.gaps, 99) * 1000:.1f} ms)"
        )
        assert worst_ask < 1.0, f"/ask in another server took {worst_ask:.2f} s"
        # The loop's busy time (every tick past its 1 ms sleep) beyond what as many of the
        # cheapest interactions cost, per autocomplete served: before the fix, each held the
        # loop 137-173 ms; now the search runs off the loop without holding the GIL, on entries
        # prepared once.
        busy, cheap_busy = busy_time(flood.gaps), busy_time(quiet.gaps)
        per_served = (busy - cheap_busy) / max(1, served)
        print(
            f"fair share: event loop busy {busy * 1000:.0f} ms (80 cheap: {cheap_busy * 1000:.0f} ms), "
            f"{per_served * 1000:.1f} ms more per autocomplete served"
        )
        assert per_served < LOOP_PER_SERVED, (
            f"each heavy autocomplete served kept the event loop {per_served * 1000:.0f} ms more "
            f"than a cheap one (busy {busy * 1000:.0f} ms, 80 cheap: {cheap_busy * 1000:.0f} ms)"
        )
        # A busy machine can pause any process now and then: stray pauses are not counted.
        stalls = [g for g in flood.gaps if g >= STALL]
        assert len(stalls) <= STRAY_PAUSES, (
            f"the event loop stalled {len(stalls)} times over {STALL * 1000:.0f} ms "
            f"(longest {flood.longest * 1000:.0f} ms)"
        )


async def test_searching_a_full_server_holds_the_event_loop_for_milliseconds(tmp_path: Path) -> None:
    """The searches themselves, without the fake Discord's traffic: the first one prepares
    the server's 500 entries (in a worker), every later one is a millisecond of loop time."""
    assistant = await Assistant.start(settings_for(tmp_path))
    try:
        await assistant.store.import_entries(SERVER_B, [big_entry(n) for n in range(500)], int(MOD["id"]))
        curation = CurationService(assistant, max_entries_per_guild=500)
        typed = ["question 7", "", "big", "big-entry-1", "lorem", "zzz", "question 7"]
        gc.freeze()  # as `bot run` does
        try:
            async with Ticker() as preparing:
                for text in typed:
                    assert await curation.entry_ids_for_autocomplete(SERVER_B, text, 25) or text == "zzz"
            async with Ticker() as searching:
                for text in typed * WARM_ROUNDS:
                    assert await curation.entry_ids_for_autocomplete(SERVER_B, text, 25) or text == "zzz"
        finally:
            gc.unfreeze()
        first, warm = busy_time(preparing.gaps), busy_time(searching.gaps) / (len(typed) * WARM_ROUNDS)
        print(
            f"fair share: 7 searches of 500 entries: event loop busy {first * 1000:.1f} ms in all with "
            f"the preparation (longest stall {preparing.longest * 1000:.1f} ms), then "
            f"{warm * 1000:.2f} ms per search (longest stall {searching.longest * 1000:.1f} ms)"
        )
        assert first < BUSY_WITH_PREPARATION, f"preparing and searching held the loop {first * 1000:.0f} ms"
        assert preparing.longest < STALL_WITH_PREPARATION
        assert warm < BUSY_PER_SEARCH, f"each search held the loop {warm * 1000:.1f} ms"
        assert searching.longest < STALL_PER_SEARCH
    finally:
        await assistant.close()


async def test_qa_commands_have_a_member_budget(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics
) -> None:
    async with live_bot(settings_for(tmp_path)) as live:
        with reliability_metrics.fault("one moderator floods /qa list", "fair share"):
            bodies = [await respond(live, qa("list")) for _ in range(25)]
            refused = [b for b in bodies if "using /qa quickly" in (b["data"].get("content") or "")]
            assert len(refused) == 25 - 20
            assert all(b["type"] == 4 and b["data"]["flags"] & 64 for b in refused)
