"""The registry of live buttons and forms: weak, bounded, in agreement with discord.py.

Whether a click or a form is claimed is tested end to end (tests/reliability/test_replays.py);
these tests pin the memory promises."""

from __future__ import annotations

import gc

import discord
import pytest

from bot.discord_app.live_components import LiveComponents

pytestmark = pytest.mark.asyncio


def view_with_button() -> discord.ui.View:
    view = discord.ui.View(timeout=60)
    view.add_item(discord.ui.Button(label="Go"))
    return view


async def test_a_forgotten_view_leaves_the_registry() -> None:
    live = LiveComponents(limit=10)
    views = [view_with_button() for _ in range(5)]
    for view in views:
        live.track(view)
    assert len(live) == 5
    del views, view
    gc.collect()
    assert len(live) == 0


async def test_past_the_limit_finished_views_go_first_then_the_oldest_is_stopped() -> None:
    live = LiveComponents(limit=3)
    first, finished, third = view_with_button(), view_with_button(), view_with_button()
    for view in (first, finished, third):
        live.track(view)
    finished.stop()
    fourth = view_with_button()
    live.track(fourth)  # room made by forgetting the finished view: nothing live is stopped
    assert len(live) == 3 and not first.is_finished()
    fifth = view_with_button()
    live.track(fifth)
    assert first.is_finished(), "the oldest live view was not stopped"
    assert len(live) == 3 and not any(v.is_finished() for v in (third, fourth, fifth))


async def test_a_modal_is_stopped_like_a_view() -> None:
    live = LiveComponents(limit=1)
    modal = discord.ui.Modal(title="Form", timeout=60)
    live.track(modal)
    live.track(view_with_button())
    assert modal.is_finished()
