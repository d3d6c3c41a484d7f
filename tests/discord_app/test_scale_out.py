"""Scale out for real: two `python -m bot run` processes, one shard each, one database.

The fake Discord runs in the test process; the bots are subprocesses pointed at it. What is
checked is what an operator would see: who identified when, who synced commands, which process
answered (each process's own /metrics), and that a process killed with SIGKILL comes back with
everything it had acknowledged.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.discord_app.processes import BotProcess, bot_processes
from tests.discord_app.qa_helpers import fill, modal_fields, qa, submit
from tests.discord_app.test_ask import ask, embed_of
from tests.discord_app.test_curation import MOTTO_A, MOTTO_Q, STAND
from tests.discord_app.test_shards import SERVERS, guilds
from tests.fakediscord import FakeDiscord, fake_discord, paths

pytestmark = pytest.mark.e2e


async def interact(fake: FakeDiscord, interaction: dict[str, Any]) -> dict[str, Any]:
    await fake.dispatch("INTERACTION_CREATE", interaction)
    response = await fake.wait_for_interaction_response(interaction, timeout=15)
    assert isinstance(response.json, dict)
    # Exactly one process answered: a second callback would be recorded too (and refused).
    assert len(fake.find_requests("POST", paths.callback(interaction["id"]))) == 1
    return response.json


async def answer_in(fake: FakeDiscord, server: int, question: str) -> str | None:
    body = await interact(fake, ask(question, guild_id=server, channel_id=server + 1))
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


def shard_env(database: str, shard: int) -> dict[str, str]:
    return {"BOT_DATABASE": database, "BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": str(shard)}


async def test_two_processes_two_shards_one_database(tmp_path: Path) -> None:
    database = str(tmp_path / "bot.sqlite3")
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

            # A moderator's entry in server 1 is acknowledged by the process that runs shard 1 ...
            await add_entry(fake, SERVERS[1])
            assert MOTTO_A in (await answer_in(fake, SERVERS[1], "what's our club motto?") or "")
            # ... which is then killed without warning and started again: nothing acknowledged is lost.
            await second.kill()
            await second.start()
            await second.wait_ready()
            assert len(fake.identifies) == 3 and fake.identifies[-1].shard == (1, 2)
            assert MOTTO_A in (await answer_in(fake, SERVERS[1], "what's our club motto?") or "")
            # The entry is server 1's alone.
            assert await answer_in(fake, SERVERS[0], "what's our club motto?") is None
            assert len(fake.command_syncs()) == 1
