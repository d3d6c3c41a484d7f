"""Stale and replayed buttons and forms, and replayed permissions.

Every click or form submission gets a private answer: an unknown custom_id (after a restart or
a timeout) is told its buttons expired, and a form gets back everything typed in it as a file.
Replays of a moderator's buttons and forms by someone else, in another server, or after the
moderator lost the right to curate, are refused and change nothing.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio

from bot.core.models import EntryDraft
from bot.core.permissions import REFUSAL
from bot.discord_app.checks import NOT_YOURS, OTHER_SERVER
from bot.discord_app.curation_views import ConfirmRemoveView
from bot.discord_app.stale import EXPIRED_BUTTONS, FORM_FILE
from tests.discord_app.conftest import Live, respond
from tests.discord_app.qa_helpers import (
    MEMBER,
    MOD,
    OTHER_MOD,
    button,
    buttons,
    click,
    fill,
    is_ephemeral,
    open_modal,
    qa,
    submit,
)
from tests.fakediscord import DEFAULT_EVERYONE_PERMISSIONS, GUILD_ID, paths, payloads
from tests.reliability.conftest import ReliabilityMetrics
from tests.reliability.helpers import live_bot, message_problems, settings_for

pytestmark = [pytest.mark.reliability, pytest.mark.asyncio(loop_scope="module")]

OTHER_GUILD = GUILD_ID + 1000
STAND = "We stand together with Ukraine against President Putin\u2019s war"
TYPED = fill(
    ["What is our reading circle's motto?", "circle motto"], "Standing with Ukraine.", [STAND], "Blinken"
)


@dataclass
class Setup:
    live: Live
    entry_id: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def setup(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Setup]:
    async with live_bot(settings_for(tmp_path_factory.mktemp("replays"))) as live:
        draft = EntryDraft(questions=["What is our club motto?"], answer="Unity.", excerpts=[STAND])
        stored = await live.bot.curation.create(GUILD_ID, draft, int(MOD["id"]))
        await live.bot.curation.create(OTHER_GUILD, draft, int(MOD["id"]))
        yield Setup(live, stored.id)


async def state(live: Live) -> tuple[str, str]:
    return await live.bot.curation.export(GUILD_ID), await live.bot.curation.export(OTHER_GUILD)


def refused_privately(body: dict[str, object], text: str) -> None:
    assert body["type"] == 4 and is_ephemeral(body), body
    data = body["data"]
    assert isinstance(data, dict) and text in data["content"], data
    assert message_problems(data) == []


# ---- stale: nobody is listening any more ---------------------------------------------------


async def test_an_unknown_button_is_told_it_expired(
    setup: Setup, reliability_metrics: ReliabilityMetrics
) -> None:
    with reliability_metrics.fault("click on buttons of a restarted bot", "stale component"):
        body = await respond(setup.live, payloads.button_click("0f" * 16, **qa_ctx()))
        refused_privately(body, EXPIRED_BUTTONS)


async def test_an_unknown_form_gets_its_text_back(
    setup: Setup, reliability_metrics: ReliabilityMetrics
) -> None:
    with reliability_metrics.fault("form of a restarted bot submitted", "stale component"):
        before = await state(setup.live)
        body = await respond(setup.live, payloads.modal_submit("ab" * 16, TYPED, **qa_ctx()))
        refused_privately(body, "nothing was saved")
        typed = body["files"][FORM_FILE].decode("utf-8")
        assert all(value in typed for value in TYPED.values())
        assert await state(setup.live) == before


async def test_buttons_of_a_finished_view_are_told_they_expired(
    setup: Setup, reliability_metrics: ReliabilityMetrics
) -> None:
    live = setup.live
    with reliability_metrics.fault("click after the view timed out", "stale component"):
        body = await respond(live, qa("remove", [payloads.option("id", setup.entry_id)]))
        remove_id = button(body["message"], "Remove")["custom_id"]
        message_id = int(body["message"]["id"])
        cancelled = await respond(live, click(body["message"], "Cancel"))  # stops the view
        assert cancelled["type"] == 7
        again = await respond(live, payloads.button_click(remove_id, message_id=message_id, **qa_ctx()))
        refused_privately(again, EXPIRED_BUTTONS)
        assert await live.assistant.store.get_entry(GUILD_ID, setup.entry_id) is not None


async def test_buttons_that_timed_out_are_told_they_expired(
    setup: Setup, reliability_metrics: ReliabilityMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = setup.live
    monkeypatch.setattr(ConfirmRemoveView, "listen_seconds", 0.2)
    with reliability_metrics.fault("click after the buttons timed out", "stale component"):
        body = await respond(live, qa("remove", [payloads.option("id", setup.entry_id)]))
        await asyncio.sleep(0.5)  # discord.py's timeout task stops the view
        late = click(body["message"], "Remove", **qa_ctx())
        refused_privately(await respond(live, late), EXPIRED_BUTTONS)
        assert await answers_to(live, late) == 1
        assert await live.assistant.store.get_entry(GUILD_ID, setup.entry_id) is not None


async def test_a_form_of_the_previous_process_gets_its_text_back_and_a_live_one_is_answered_once(
    setup: Setup, tmp_path: Path, reliability_metrics: ReliabilityMetrics
) -> None:
    """The form stays open (and alive in memory) in the first bot; a second bot, as after a
    restart, is not listening for it and says so. The first bot still saves it, once."""
    first = setup.live
    modal = await open_modal(first, qa("add", **qa_ctx()))
    before = await state(first)
    with reliability_metrics.fault("form of the previous process submitted", "stale component"):
        async with live_bot(settings_for(tmp_path)) as restarted:
            stale = submit(modal, TYPED, **qa_ctx())
            body = await respond(restarted, stale)
            refused_privately(body, "nothing was saved")
            typed = body["files"][FORM_FILE].decode("utf-8")
            assert all(value in typed for value in TYPED.values())
            assert await answers_to(restarted, stale) == 1
        assert await state(first) == before
    live = submit(modal, TYPED, **qa_ctx())
    saved = await respond(first, live)
    assert saved["type"] == 4 and "Added" in saved["data"]["content"], saved
    assert await answers_to(first, live) == 1
    assert await state(first) != before


async def test_live_buttons_are_answered_once(setup: Setup) -> None:
    live = setup.live
    body = await respond(live, qa("remove", [payloads.option("id", setup.entry_id)]))
    cancel = click(body["message"], "Cancel", **qa_ctx())
    assert (await respond(live, cancel))["type"] == 7
    assert await answers_to(live, cancel) == 1


async def test_past_the_bound_the_oldest_buttons_expire(
    setup: Setup, reliability_metrics: ReliabilityMetrics, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot listens for a bounded number of button sets and forms; the oldest is stopped
    first, and a click on it is explained like any expired one."""
    live = setup.live
    monkeypatch.setattr(live.bot.live_components, "limit", 2)
    with reliability_metrics.fault("buttons stopped past the bound", "stale component"):
        messages = [
            (await respond(live, qa("remove", [payloads.option("id", setup.entry_id)])))["message"]
            for _ in range(3)
        ]
        assert len(live.bot.live_components) <= 2
        refused_privately(await respond(live, click(messages[0], "Remove", **qa_ctx())), EXPIRED_BUTTONS)
        assert (await respond(live, click(messages[2], "Cancel", **qa_ctx())))["type"] == 7
        assert await live.assistant.store.get_entry(GUILD_ID, setup.entry_id) is not None


async def answers_to(live: Live, interaction: dict[str, Any]) -> int:
    """Every answer the bot gave `interaction` (callbacks and follow-ups), once it had time to
    give a second one."""
    await asyncio.sleep(0.3)
    callbacks = live.fake.find_requests("POST", paths.callback(interaction["id"]))
    followups = live.fake.find_requests("POST", rf"^/webhooks/\d+/{re.escape(interaction['token'])}$")
    return len(callbacks) + len(followups)


def qa_ctx() -> dict[str, object]:
    return {"user": MOD, "permissions": DEFAULT_EVERYONE_PERMISSIONS | 32}


# ---- replays: someone else, another server, a lost permission -------------------------------


async def test_replays_of_a_confirm_button(setup: Setup, reliability_metrics: ReliabilityMetrics) -> None:
    live = setup.live
    body = await respond(live, qa("remove", [payloads.option("id", setup.entry_id)]))
    assert [b["label"] for b in buttons(body["message"])] == ["Remove", "Cancel"]
    before = await state(live)
    replays = {
        "another moderator": (dict(user=OTHER_MOD), NOT_YOURS),
        "the same moderator in another server": (dict(guild_id=OTHER_GUILD), OTHER_SERVER),
        "the same moderator without the permission": (
            dict(permissions=DEFAULT_EVERYONE_PERMISSIONS),
            REFUSAL,
        ),
    }
    for name, (ctx, expected) in replays.items():
        with reliability_metrics.replay():
            refused_privately(await respond(live, click(body["message"], "Remove", **ctx)), expected)
            assert await state(live) == before, name
    assert button(body["message"], "Remove")


async def test_replays_of_a_form_give_the_text_back(
    setup: Setup, reliability_metrics: ReliabilityMetrics
) -> None:
    live = setup.live
    before = await state(live)
    cases = {
        "in another server": (dict(guild_id=OTHER_GUILD), OTHER_SERVER),
        "by a member without the permission": (dict(permissions=DEFAULT_EVERYONE_PERMISSIONS), REFUSAL),
        "by a member who is not the moderator": (
            dict(user=MEMBER, permissions=DEFAULT_EVERYONE_PERMISSIONS),
            REFUSAL,
        ),
    }
    for name, (ctx, expected) in cases.items():
        modal = await open_modal(live, qa("add"))
        with reliability_metrics.replay():
            body = await respond(live, submit(modal, TYPED, **ctx))
            refused_privately(body, expected)
            assert "Nothing was saved" in body["data"]["content"], name
            typed = body["files"][FORM_FILE].decode("utf-8")
            assert all(value in typed for value in TYPED.values()), name
            assert await state(live) == before, name
