"""Which buttons and forms this bot is still listening for, from discord.py's public API only.

discord.py silently drops a click or a form submission that no view, modal or dynamic item
claims; `bot.discord_app.stale` answers those instead. To know which ones discord.py will
dispatch, every view and modal the bot makes derives from `TrackedView` or `TrackedModal`:
they register themselves, at construction, with the `LiveComponents` of the client the
interaction that opened them came to. A registered view or modal is live while
`is_finished()` is false: discord.py stops dispatching to it at the same moment (`stop()`, a
timeout, a submitted modal), and one that is garbage-collected cannot be dispatched either, so
the registry holds weak references only. Components whose state is their custom_id
(`DynamicItem`s) are claimed by their template (`listen_for`); they never expire.

The registry belongs to one client: after a restart, a form of the previous process is not
live even if its object still exists in memory.
"""

from __future__ import annotations

import itertools
import re
import weakref
from typing import TYPE_CHECKING, Any

import discord

from bot.core.limits import LIVE_VIEWS

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

Tracked = discord.ui.View | discord.ui.Modal


class LiveComponents:
    """The views and modals of one client, by custom_id, and the templates of its dynamic items.

    Bounded: past `limit` live views and modals, the oldest is stopped (its buttons then say
    they expired, and a form gives its text back), so memory cannot grow with traffic."""

    def __init__(self, limit: int = LIVE_VIEWS) -> None:
        self.limit = limit
        self._by_order: weakref.WeakValueDictionary[int, Tracked] = weakref.WeakValueDictionary()
        self._by_custom_id: weakref.WeakValueDictionary[str, Tracked] = weakref.WeakValueDictionary()
        self._order = itertools.count()
        self._templates: list[re.Pattern[str]] = []

    def __len__(self) -> int:
        return len(self._by_order)

    def listen_for(self, *templates: re.Pattern[str]) -> None:
        """Dynamic items: a custom_id matching one of these is always claimed."""
        self._templates.extend(t for t in templates if t not in self._templates)

    def track(self, view: Tracked) -> None:
        """Register `view` with the custom_ids it has now (`add`, below, for items added later)."""
        if len(self._by_order) >= self.limit:
            self._make_room()
        self._by_order[next(self._order)] = view
        if isinstance(view, discord.ui.Modal):
            self._by_custom_id[view.custom_id] = view
        for item in view.walk_children():
            self.add(view, item)

    def add(self, view: Tracked, item: discord.ui.Item[Any]) -> None:
        custom_id = getattr(item, "custom_id", None)
        if isinstance(custom_id, str) and not isinstance(view, discord.ui.Modal):
            self._by_custom_id[custom_id] = view

    def _make_room(self) -> None:
        for key, view in list(self._by_order.items()):
            if view.is_finished():
                del self._by_order[key]
        while len(self._by_order) >= self.limit:
            key = next(iter(self._by_order.keys()))
            oldest = self._by_order.pop(key)
            oldest.stop()  # discord.py stops dispatching to it: the two stay in agreement

    def claims(self, interaction: discord.Interaction[Any]) -> bool:
        """Whether a live view, modal or dynamic item of this client will handle `interaction`."""
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        view = self._by_custom_id.get(custom_id)
        if interaction.type is discord.InteractionType.modal_submit:
            return isinstance(view, discord.ui.Modal) and not view.is_finished()
        if any(template.fullmatch(custom_id) for template in self._templates):
            return True
        if not isinstance(view, discord.ui.View) or view.is_finished():
            return False
        kind = data.get("component_type")
        return any(
            getattr(item, "custom_id", None) == custom_id and item.type.value == kind
            for item in view.walk_children()
        )


def live_components(interaction: discord.Interaction[MeetingBot]) -> LiveComponents:
    return interaction.client.live_components


class TrackedView(discord.ui.View):
    """A view of this bot: registered with the client of the interaction that opened it."""

    def __init__(self, interaction: discord.Interaction[MeetingBot], *, timeout: float | None) -> None:
        super().__init__(timeout=timeout)
        self._live = live_components(interaction)
        self._live.track(self)

    def add_item(self, item: discord.ui.Item[Any]) -> TrackedView:
        super().add_item(item)
        self._live.add(self, item)
        return self


class TrackedModal(discord.ui.Modal):
    """A form of this bot: registered with the client of the interaction that opened it."""

    def __init__(
        self, interaction: discord.Interaction[MeetingBot], *, title: str, timeout: float | None
    ) -> None:
        super().__init__(title=title, timeout=timeout)
        live_components(interaction).track(self)


__all__ = ["LiveComponents", "TrackedModal", "TrackedView"]
