"""Load: 1,000 /ask interactions in bursts of 100 concurrent, moderators editing meanwhile.

Timed to the final answer: a "thinking…" deferral is not an answer; its follow-up or edit is.

Through the fake Discord, the real bot gets 10 bursts of 100 INTERACTION_CREATE events (distinct
users and channels, a seeded mix of answerable, unanswerable and moderator-entry questions)
while a moderator task creates and edits this server's entries every ~10 ms through the curation
service. Every interaction must get its initial response within Discord's 3 s window, no write
may hit "database is locked", and every question must reach the question log.
Latency is measured from the event leaving the fake gateway to the final answer reaching the
fake REST API: the callback when it is the answer, else the follow-up or edit after a deferral
(both stamped by the fake on one monotonic clock).
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.core.curation import CurationService
from bot.core.models import EntryDraft
from bot.core.store import StoreBusy
from tests.discord_app.conftest import Live
from tests.fakediscord import GUILD_ID, payloads, snowflake
from tests.reliability.conftest import ReliabilityMetrics, percentile
from tests.reliability.helpers import ask_payload, live_bot, settings_for

pytestmark = pytest.mark.reliability

BURSTS = 10
BURST_SIZE = 100
DEADLINE_S = 3.0
PAUSE_S = 0.25
MOD = 4242
STAND = "We stand together with Ukraine against President Putin\u2019s war"
QUESTIONS = [
    "Who attended the meeting?",
    "where was the meeting held",
    "What did Blinken say about Putin?",
    "what did hamada say",
    "When was the 2+2 meeting?",
    "what is the best pizza topping?",
    "@everyone what about **China**?",
    "What is reading circle motto 3?",  # a moderator entry, being edited meanwhile
    "What is reading circle motto 7?",
    "x",
]
_CALLBACK = re.compile(r"^/interactions/(\d+)/[^/]+/callback$")


@dataclass
class Moderator:
    """Creates, then keeps editing, a server's entries every ~10 ms until stopped."""

    curation: CurationService
    rng: random.Random
    writes: int = 0
    errors: list[BaseException] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def draft(self, n: int, edit: int) -> EntryDraft:
        return EntryDraft(
            questions=[f"What is reading circle motto {n}?", f"reading circle motto number {n}"],
            answer=f"Motto {n}, edit {edit}: we stand with Ukraine.",
            excerpts=[STAND],
            speaker="Antony J. Blinken",
        )

    async def run(self, stop: asyncio.Event) -> None:
        ids: list[str] = []
        versions: dict[str, int] = {}
        edit = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                if len(ids) < 12:
                    stored = await self.curation.create(GUILD_ID, self.draft(len(ids), 0), MOD)
                    ids.append(stored.id)
                else:
                    n = self.rng.randrange(len(ids))
                    entry_id = ids[n]
                    edit += 1
                    stored = await self.curation.edit(
                        GUILD_ID, entry_id, self.draft(n, edit), MOD, versions[entry_id]
                    )
                versions[stored.id] = stored.version
                self.writes += 1
                self.latencies_ms.append((time.monotonic() - started) * 1000)
            except Exception as exc:  # recorded and asserted on: a busy store must not happen
                self.errors.append(exc)
            await asyncio.sleep(0.01)


#: Callback types that are the answer itself (4: a message, 7: an update); 5 only says "thinking…".
_FINAL_CALLBACKS = {4, 7}
_DEFERRED = 5
_WEBHOOK = re.compile(r"^/webhooks/\d+/([^/]+)(?:/messages/@original)?$")


async def wait_for_answers(
    live: Live,
    pending: dict[str, str],
    start: int,
    timeout: float,  # noqa: ASYNC109
) -> dict[str, float]:
    """When each pending interaction (id -> token) got its *final* answer (scans new requests).

    A callback of type 4 or 7 is the answer. A deferral (type 5, "thinking…") is not: its
    answer is the follow-up message or the edit of the original response that comes after it,
    so a bot that always defers and answers late is measured late."""
    final: dict[str, float] = {}
    by_token = {token: interaction_id for interaction_id, token in pending.items()}
    deferred: set[str] = set()
    seen = start
    deadline = time.monotonic() + timeout
    while pending.keys() - final.keys() and time.monotonic() < deadline:
        items = live.fake.requests.items
        for request in items[seen:]:
            if request.status >= 300:
                continue
            callback = _CALLBACK.match(request.path)
            if callback and request.method == "POST" and callback[1] in pending:
                kind = (request.json or {}).get("type")
                if kind in _FINAL_CALLBACKS:
                    final.setdefault(callback[1], request.time)
                elif kind == _DEFERRED:
                    deferred.add(callback[1])
                continue
            webhook = _WEBHOOK.match(request.path)
            if webhook and request.method in {"POST", "PATCH"}:
                interaction_id = by_token.get(webhook[1])
                if interaction_id in deferred:
                    final.setdefault(interaction_id, request.time)
        seen = len(items)
        await asyncio.sleep(0.005)
    return final


async def test_1000_asks_in_bursts_of_100_while_moderators_edit(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    reliability_metrics: ReliabilityMetrics,
    reliability_seed: int,
) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(reliability_seed)
    settings = settings_for(tmp_path, database=tmp_path / "bot.sqlite3")  # read with sqlite3 below
    latencies: list[float] = []
    answered = 0
    async with live_bot(settings) as live:
        moderator = Moderator(live.bot.curation, random.Random(reliability_seed + 1))
        stop = asyncio.Event()
        editing = asyncio.create_task(moderator.run(stop))
        try:
            for burst in range(BURSTS):
                start = len(live.fake.requests.items)
                interactions = [
                    ask_payload(
                        rng.choice(QUESTIONS),
                        channel_id=snowflake(),
                        user=payloads.user(snowflake(), f"asker{burst}-{n}"),
                    )
                    for n in range(BURST_SIZE)
                ]
                sent: dict[str, float] = {}
                for interaction in interactions:
                    sent[interaction["id"]] = time.monotonic()
                    await live.fake.dispatch("INTERACTION_CREATE", interaction)
                tokens = {i["id"]: i["token"] for i in interactions}
                arrived = await wait_for_answers(live, tokens, start, timeout=15.0)
                for interaction_id, at in arrived.items():
                    latencies.append((at - sent[interaction_id]) * 1000)
                answered += len(arrived)
                reliability_metrics.interactions += BURST_SIZE
                reliability_metrics.interactions_answered += len(arrived)
                reliability_metrics.over_deadline += sum(
                    1 for i, at in arrived.items() if at - sent[i] > DEADLINE_S
                )
                reliability_metrics.latencies_ms += [(at - sent[i]) * 1000 for i, at in arrived.items()]
                await asyncio.sleep(PAUSE_S)  # bursts, not a flood: moderators also write in between
        finally:
            stop.set()
            await editing
        callbacks = [r for r in live.fake.requests.items if _CALLBACK.match(r.path)]
        assert await live.assistant.questions.flush(30), "the question log never caught up"
        with sqlite3.connect(settings.database) as raw:
            logged = raw.execute("SELECT COUNT(*) FROM question_log").fetchone()[0]

    over = [ms for ms in latencies if ms > DEADLINE_S * 1000]
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    print(
        f"load: {answered}/{BURSTS * BURST_SIZE} answered, {len(over)} over {DEADLINE_S:.0f} s, "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies):.1f} ms; "
        f"{moderator.writes} moderator writes meanwhile "
        f"(p50 {percentile(moderator.latencies_ms, 50):.1f} ms, max {max(moderator.latencies_ms):.1f} ms)"
    )
    assert answered == BURSTS * BURST_SIZE
    assert not over, f"{len(over)} interactions answered after {DEADLINE_S} s"
    assert all(r.status == 200 for r in callbacks), [r.response for r in callbacks if r.status != 200][:3]
    assert not [e for e in moderator.errors if isinstance(e, StoreBusy)], moderator.errors[:3]
    assert moderator.errors == [], moderator.errors[:3]
    assert moderator.writes >= 30, "the moderator barely wrote: the load test proves little"
    locked = [
        r.getMessage() for r in caplog.records if "locked" in r.getMessage() or "busy" in r.getMessage()
    ]
    assert locked == []
    # Nothing went wrong quietly either (a question the store could not log, a store error...).
    ours = [
        r.getMessage() for r in caplog.records if r.name.startswith("bot") and r.levelno >= logging.WARNING
    ]
    assert ours == []
    assert logged == BURSTS * BURST_SIZE, "some questions never reached the question log"


async def test_the_load_measure_sees_a_bot_that_defers_and_answers_late(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The measure itself: a bot that always says "thinking…" at once and answers 3.5 s later
    must come out over the deadline (before, it passed "1000/1000, over deadline 0")."""
    from bot.discord_app import asking

    monkeypatch.setattr(asking, "DEFER_AFTER_SECONDS", 0.0)
    async with live_bot(settings_for(tmp_path)) as live:
        real_ask = live.assistant.ask

        async def slow_ask(*args: object, **kwargs: object) -> object:
            await asyncio.sleep(DEADLINE_S + 0.5)
            return await real_ask(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(live.assistant, "ask", slow_ask)
        start = len(live.fake.requests.items)
        interactions = [ask_payload("Who attended the meeting?", channel_id=snowflake()) for _ in range(5)]
        sent: dict[str, float] = {}
        for interaction in interactions:
            sent[interaction["id"]] = time.monotonic()
            await live.fake.dispatch("INTERACTION_CREATE", interaction)
        arrived = await wait_for_answers(
            live, {i["id"]: i["token"] for i in interactions}, start, timeout=15.0
        )
        assert arrived.keys() == sent.keys(), "a late answer was never seen"
        late = [at - sent[i] for i, at in arrived.items()]
        assert all(seconds > DEADLINE_S for seconds in late), late
        callbacks = [r for r in live.fake.requests.items[start:] if _CALLBACK.match(r.path)]
        assert all(r.json["type"] == _DEFERRED for r in callbacks), "the bot did not defer"
