"""Discord and storage faults: the bot rides them out and keeps answering.

Gateway: the socket dropped without a close frame, and op 7 RECONNECT -> the client RESUMEs the
same session on `resume_gateway_url` and answers (an interaction sent during the outage is
replayed, another after it). REST: 429 with `retry_after` and 500 -> retried after the wait,
answered once. 404 Unknown interaction -> logged, no crash, the next one answered. A read-only
database -> questions answered, curation refused with the store's read-only message.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.assistant import Assistant
from bot.core.models import EntryDraft
from bot.core.store import StoreReadOnly
from bot.settings import Settings
from tests.discord_app.conftest import Live
from tests.discord_app.qa_helpers import fill, is_ephemeral, open_modal, qa, role_option, submit
from tests.discord_app.qa_helpers import respond as qa_respond
from tests.fakediscord import DM_CHANNEL_ID, GUILD_ID, paths, payloads, snowflake
from tests.reliability.conftest import ReliabilityMetrics
from tests.reliability.helpers import ask_payload, live_bot, message_problems, respond, settings_for

pytestmark = pytest.mark.reliability

RESUME = 6
ATTENDED = "attended by U.S. Secretary of State Antony J. Blinken"


def assert_answered(body: dict[str, object]) -> None:
    assert body["type"] == 4, body
    data = body["data"]
    assert isinstance(data, dict)
    assert "Blinken" in data["embeds"][0]["description"]
    assert message_problems(data) == []


async def check_resumed(live: Live, connections_before: int) -> None:
    """The client RESUMEd the same session on a new socket, then answers what was sent meanwhile."""
    frame = await live.fake.wait_for_gateway_op(RESUME, timeout=15)
    conn = live.fake.gateway_connections[frame.connection]
    assert frame.connection >= connections_before
    assert conn.path == "/resume" and conn.resumed and not conn.identified
    assert len(live.fake.identify_payloads) == 1, "the client started a new session instead of resuming"


@pytest.mark.parametrize("how", ["abrupt-close", "op7-reconnect"])
async def test_gateway_loss_resumes_and_answers(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics, how: str
) -> None:
    async with live_bot(settings_for(tmp_path)) as live:
        with reliability_metrics.fault(f"gateway {how}", "gateway"):
            before = len(live.fake.gateway_connections)
            if how == "abrupt-close":
                await live.fake.close_gateway(abort=True)
                # Sent while the socket is down: the fake keeps it for the RESUME replay.
                during = ask_payload("Who attended the meeting?", channel_id=snowflake())
                await live.fake.dispatch("INTERACTION_CREATE", during)
            else:
                await live.fake.send_reconnect()
                during = None
            await check_resumed(live, before)
            if during is not None:
                request = await live.fake.wait_for_interaction_response(during, timeout=10)
                assert request.json["type"] == 4
            assert_answered(await respond(live, ask_payload("Who attended?", channel_id=snowflake())))
            assert not live.bot.is_closed()


async def test_rate_limited_callback_waits_retry_after_then_succeeds(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics
) -> None:
    async with live_bot(settings_for(tmp_path)) as live:
        with reliability_metrics.fault("REST 429 on the interaction callback", "REST"):
            interaction = ask_payload("Who attended the meeting?", channel_id=snowflake())
            live.fake.fail_with_rate_limit("POST", paths.callback(interaction["id"]), retry_after=0.4)
            await live.fake.dispatch("INTERACTION_CREATE", interaction)
            first = await live.fake.wait_for_interaction_response(interaction)
            second = await live.fake.wait_for_interaction_response(interaction, timeout=10)
            assert (first.status, second.status) == (429, 200)
            waited = second.time - first.time
            assert 0.35 <= waited < 2.5, f"retried after {waited:.2f} s (retry_after was 0.4 s)"
            assert live.fake.find_requests("POST", paths.callback(interaction["id"])) == [first, second]
            assert_answered({"type": second.json["type"], "data": second.json["data"]})


async def test_server_error_on_a_reply_is_retried(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics
) -> None:
    """A 500 on the DM reply: discord.py waits (1 s) and sends it again; the user gets one answer."""
    async with live_bot(settings_for(tmp_path)) as live:
        with reliability_metrics.fault("REST 500 on a channel message", "REST"):
            live.fake.fail_with_server_error("POST", paths.channel_messages(DM_CHANNEL_ID))
            await live.fake.dispatch("MESSAGE_CREATE", payloads.dm_message("who attended the meeting?"))
            first = await live.fake.wait_for_request("POST", paths.channel_messages(DM_CHANNEL_ID))
            second = await live.fake.wait_for_request(
                "POST", paths.channel_messages(DM_CHANNEL_ID), timeout=10
            )
            assert (first.status, second.status) == (500, 200)
            assert first.json == second.json, "the retry is not the same message"
            assert "Blinken" in str(second.json["embeds"])
            assert message_problems(second.json) == []
            assert len(live.fake.messages_in(DM_CHANNEL_ID)) == 2  # the question and one answer


async def test_expired_interaction_is_logged_and_the_next_one_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, reliability_metrics: ReliabilityMetrics
) -> None:
    caplog.set_level(logging.WARNING)
    async with live_bot(settings_for(tmp_path)) as live:
        with reliability_metrics.fault("REST 404 Unknown interaction (expired)", "REST"):
            expired = ask_payload("Who attended the meeting?", channel_id=snowflake())
            # Discord refuses every response to an expired interaction, the apology included.
            rule = live.fake.fail_with_unknown_interaction(path=paths.callback(expired["id"]), times=10)
            await live.fake.dispatch("INTERACTION_CREATE", expired)
            await live.fake.wait_for_interaction_response(expired)
            assert_answered(await respond(live, ask_payload("Who attended?", channel_id=snowflake())))
            assert rule.hits >= 1
            logged = "\n".join(
                f"{r.getMessage()} {r.exc_info[1] if r.exc_info else ''}"
                for r in caplog.records
                if r.name.startswith("bot")
            )
            assert "Unknown interaction" in logged, logged
            assert not live.bot.is_closed()


# ---- a read-only database --------------------------------------------------------------------


@contextlib.contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """Make the database file really unwritable for this process.

    As root, chmod stops nothing (CAP_DAC_OVERRIDE), so root sets the immutable attribute
    (`chattr +i`, which binds root too); anyone else gets a 0444 file in a 0555 directory.
    """
    if os.geteuid() != 0:
        path.chmod(0o444)
        path.parent.chmod(0o555)
        undo = [lambda: path.parent.chmod(0o755), lambda: path.chmod(0o644)]
    else:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode != 0:
            pytest.skip(
                "as root, needs chattr +i (ext2/3/4 and CAP_LINUX_IMMUTABLE) to make a file read-only"
            )
        undo = [lambda: subprocess.run([chattr, "-i", str(path)], check=True)]
    try:
        with pytest.raises(PermissionError):
            path.open("r+b").close()
        yield
    finally:
        for step in undo:
            step()


async def prepare_database(settings: Settings) -> int:
    """A seeded database, cleanly closed (no WAL left); returns its number of entry versions."""
    assistant = await Assistant.start(settings)
    await assistant.close()
    with sqlite3.connect(settings.database) as raw:
        return int(raw.execute("SELECT COUNT(*) FROM entry_versions").fetchone()[0])


@pytest.mark.parametrize("how", ["read-only-file", "read-only-setting"])
async def test_read_only_database_answers_and_refuses_curation_clearly(
    tmp_path: Path, reliability_metrics: ReliabilityMetrics, how: str
) -> None:
    settings = settings_for(tmp_path, database=tmp_path / "bot.sqlite3")  # SQLite file faults
    versions = await prepare_database(settings)
    with contextlib.ExitStack() as stack:
        if how == "read-only-file":
            stack.enter_context(read_only_file(settings.database))
            assistant = await Assistant.start(settings)  # the store notices it cannot write
        else:
            assistant = await Assistant.start(settings, read_only=True)
        try:
            assert assistant.store.read_only
            async with live_bot(settings, assistant=assistant) as live:
                with reliability_metrics.fault(f"read-only database ({how}): /ask answered", "storage"):
                    body = await respond(live, ask_payload("Who attended the meeting?"))
                    assert_answered(body)
                    assert not body["data"].get("components"), "feedback buttons for an unlogged answer"
                with reliability_metrics.fault(f"read-only database ({how}): curation refused", "storage"):
                    draft = EntryDraft(questions=["What is our motto?"], answer="Unity.", excerpts=[ATTENDED])
                    with pytest.raises(StoreReadOnly) as info:
                        await live.bot.curation.create(GUILD_ID, draft, 42)
                    assert "read-only" in str(info.value) and "Answers still work" in str(info.value)
                    # The same refusal, as a moderator sees it: /qa add, fill in the form, submit.
                    modal = await open_modal(live, qa("add"))
                    values = fill(["What is our motto?"], "Unity.", [ATTENDED])
                    refused = await qa_respond(live, submit(modal, values))
                    assert refused["type"] == 4 and is_ephemeral(refused)
                    assert StoreReadOnly().message in refused["data"]["content"]  # + "your text is kept"
                    role, resolved = role_option("moderator_role", payloads.role(GUILD_ID + 5, "mods"))
                    refused = await qa_respond(live, qa("config", [role], resolved=resolved))
                    assert StoreReadOnly().message in refused["data"]["content"]
                    assert live.assistant.service.answer("What is our motto?", GUILD_ID).entry_id is None
                    # Still answering after the refusal.
                    assert_answered(await respond(live, ask_payload("Who attended?", channel_id=snowflake())))
        finally:
            await assistant.close()
    with sqlite3.connect(settings.database) as raw:
        assert raw.execute("SELECT COUNT(*) FROM entry_versions").fetchone()[0] == versions
        assert raw.execute("SELECT COUNT(*) FROM question_log").fetchone()[0] == 0
