"""Scale out for real: two `python -m bot run` processes, one shard each, one database (SQLite
file or PostgreSQL).

The fake Discord runs in the test process; the bots are subprocesses pointed at it. What is
checked is what an operator would see: who identified when, who synced commands, which process
answered (each process's own /metrics), that changes made by one process or by the CLI answer
within 2 s, and that a process killed with SIGKILL comes back with everything it had
acknowledged.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run_cli
from tests.databases import ENGINES
from tests.discord_app.processes import BotProcess, bot_processes
from tests.discord_app.qa_helpers import fill, modal_fields, qa, submit
from tests.discord_app.test_ask import ask, embed_of
from tests.discord_app.test_curation import MOTTO_A, MOTTO_Q, STAND
from tests.discord_app.test_shards import SERVERS, guilds
from tests.fakediscord import FakeDiscord, fake_discord, paths, snowflake

pytestmark = pytest.mark.e2e

LIVE_WITHIN = 2.0
IMPORTED_Q = "What does our reading group read?"
IMPORTED_A = "Our reading group reads the article about the meeting in Washington, D.C."
IMPORTED = {
    "id": "reading-group",
    "questions": [IMPORTED_Q, "reading group"],
    "answer": IMPORTED_A,
    "citations": [{"source": "article", "excerpt": "meeting in Washington, D.C."}],
    "tags": ["club"],
}


@pytest.fixture(params=ENGINES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        factory: Callable[[], str] = request.getfixturevalue("postgres_url_factory")
        return factory()
    return str(tmp_path / "bot.sqlite3")


async def interact(fake: FakeDiscord, interaction: dict[str, Any]) -> dict[str, Any]:
    await fake.dispatch("INTERACTION_CREATE", interaction)
    response = await fake.wait_for_interaction_response(interaction, timeout=15)
    assert isinstance(response.json, dict)
    # Exactly one process answered: a second callback would be recorded too (and refused).
    assert len(fake.find_requests("POST", paths.callback(interaction["id"]))) == 1
    return response.json


async def answer_in(fake: FakeDiscord, server: int, question: str) -> str | None:
    # A new channel each time: the same question in one channel is not reposted for a while.
    body = await interact(fake, ask(question, guild_id=server, channel_id=snowflake()))
    embed = embed_of(body)
    return None if "don't know" in embed["title"] else str(embed["description"])


async def add_entry(fake: FakeDiscord, server: int) -> None:
    """`/qa add` in `server`: the form, then its submission; returns once acknowledged."""
    opened = await interact(fake, qa("add", guild_id=server, channel_id=server + 1))
    assert opened["type"] == 9
    modal = opened["data"]
    assert list(modal_fields(modal)) == ["questions", "answer", "excerpts", "speaker"]
    values = fill([MOTTO_Q, "club motto"], MOTTO_A, [STAND], "Antony J. Blinken")
    saved = await interact(fake, submit(modal, values, guild_id=server, channel_id=server + 1))
    assert "`what-is-our-club-motto`" in saved["data"]["content"], saved


async def seconds_until_answered(fake: FakeDiscord, server: int, question: str, answer: str) -> float:
    started = time.monotonic()
    while answer not in (await answer_in(fake, server, question) or ""):
        assert time.monotonic() - started < LIVE_WITHIN, f"not live after {LIVE_WITHIN} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def shard_env(database: str, shard: int) -> dict[str, str]:
    return {
        "BOT_DATABASE": database,
        "BOT_SHARD_COUNT": "2",
        "BOT_SHARD_IDS": str(shard),
        "BOT_COOLDOWN_RATE": "1000",  # the test asks again and again until a change is live
    }


async def test_two_processes_two_shards_one_database(tmp_path: Path, database: str) -> None:
    # max_concurrency 1: both shards are in bucket 0, so the second IDENTIFY must wait 5 s.
    async with fake_discord(guilds=guilds(), shards=2, max_concurrency=1) as fake:
        first = BotProcess("shard0", fake, shard_env(database, 0), tmp_path)
        second = BotProcess("shard1", fake, shard_env(database, 1), tmp_path)
        async with bot_processes(first, second):
            health = [await first.wait_ready(), await second.wait_ready()]
            assert [h["shards"].keys() for h in health] == [{"0"}, {"1"}]
            assert [h["guilds"] for h in health] == [1, 1]
            one, two = fake.identifies
            assert (one.shard, two.shard) == ((0, 2), (1, 2))
            assert two.time - one.time >= 4.9, "the second process did not wait its identify turn"
            # Commands are synced once, by the process that runs shard 0.
            assert len(fake.command_syncs()) == 1

            # Each server is answered by its own process (counted by that process's metrics).
            for server in SERVERS.values():
                assert "Blinken" in (await answer_in(fake, server, "Who attended the meeting?") or "")
            for process in (first, second):
                assert await process.metric("meetingbot_questions_total", outcome="answered") == 1

            # A moderator's entry in server 1 is acknowledged by the process that runs shard 1,
            # answers there, and the other process re-indexes that server too within 2 s.
            await add_entry(fake, SERVERS[1])
            added = time.monotonic()
            here = await seconds_until_answered(fake, SERVERS[1], "what's our club motto?", MOTTO_A)
            while await first.metric("meetingbot_index_reloads_total") < 1:
                assert time.monotonic() - added < LIVE_WITHIN, "shard 0's process never saw the change"
                await asyncio.sleep(0.05)
            there = time.monotonic() - added

            # A CLI import for server 0 (a third process) answers in shard 0's process within 2 s.
            source = tmp_path / "import.yaml"
            source.write_text(yaml.safe_dump({"entries": [IMPORTED]}), encoding="utf-8")
            imported = await asyncio.to_thread(
                run_cli,
                tmp_path,
                "kb",
                "import",
                "--guild",
                str(SERVERS[0]),
                str(source),
                env={"BOT_DATABASE": database},
            )
            assert imported.returncode == 0 and "1 added" in imported.stdout, imported
            cli = await seconds_until_answered(fake, SERVERS[0], IMPORTED_Q, IMPORTED_A)
            print(
                f"scale-out: /qa add answered in {here:.2f} s, re-indexed by the other process in "
                f"{there:.2f} s; CLI import answered in {cli:.2f} s"
            )

            # ... which is then killed without warning and started again: nothing acknowledged is lost.
            await second.kill()
            await second.start()
            await second.wait_ready()
            assert len(fake.identifies) == 3 and fake.identifies[-1].shard == (1, 2)
            assert MOTTO_A in (await answer_in(fake, SERVERS[1], "what's our club motto?") or "")
            assert IMPORTED_A in (await answer_in(fake, SERVERS[0], IMPORTED_Q) or "")
            # The entry is server 1's alone.
            assert await answer_in(fake, SERVERS[0], "what's our club motto?") is None
            assert len(fake.command_syncs()) == 1
