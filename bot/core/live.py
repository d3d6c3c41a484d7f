"""Live changes: every running process answers with a change within seconds, whichever
process (a moderator's `/qa` edit, a CLI `kb import`, a revert) committed it.

Each write bumps a per-server change counter in the same transaction (see the store). A
`LiveUpdates` keeps the counter it last applied for each server and, on every hint from the
store's change feed (PostgreSQL `LISTEN`/`NOTIFY`, SQLite's `PRAGMA data_version`) and on a
periodic reconcile, reloads only the servers whose counter moved. A reload compares the
entries' versions with what it last indexed, so only changed entries are re-indexed, and a
change this process already made (and indexed) costs one idempotent re-index.

The curated base is not followed: it is answered from the files this process loaded.

This module is part of the core: it never imports discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterable

from bot.core.answers import AnswerService
from bot.core.limits import LIVE_POLL_SECONDS, LIVE_RECONCILE_SECONDS
from bot.core.loader import KnowledgeBase, Problem, check_citations
from bot.core.models import Entry, Scope
from bot.core.store import Store, StoredEntry, StoreError
from bot.core.wording import plural

log = logging.getLogger(__name__)


def still_verbatim(entry: Entry, kb: KnowledgeBase) -> bool:
    problems: list[Problem] = []
    # Verbatim only: an excerpt saved before the whole-words minimum existed keeps answering.
    check_citations(entry.citations, kb.texts, "store", entry.id, problems, whole_words=False)
    return not problems


def index_entry(service: AnswerService, kb: KnowledgeBase, stored: StoredEntry) -> bool:
    """Put a server entry into the answer index; False (and out of the index) when its
    excerpts no longer stand in the source. It stays in the store, so nothing is lost, and
    a moderator can edit or revert it."""
    assert stored.scope is not None
    if still_verbatim(stored.entry, kb):
        service.upsert_entry(stored.scope, stored.entry)
        return True
    _unindex(service, stored)
    return False


async def index_entry_soon(service: AnswerService, kb: KnowledgeBase, stored: StoredEntry) -> bool:
    """`index_entry`, reading the entry on the worker pool (see `AnswerService.upsert_entry_soon`)."""
    assert stored.scope is not None
    if still_verbatim(stored.entry, kb):
        await service.upsert_entry_soon(stored.scope, stored.entry)
        return True
    _unindex(service, stored)
    return False


def _unindex(service: AnswerService, stored: StoredEntry) -> None:
    service.remove_entry(stored.scope, stored.id)
    log.warning("server %s entry %r no longer quotes its source verbatim", stored.scope, stored.id)


class LiveUpdates:
    """Follows the store's per-server change counters and re-indexes the servers that moved."""

    def __init__(
        self,
        store: Store,
        service: AnswerService,
        kb: KnowledgeBase,
        *,
        poll_seconds: float = LIVE_POLL_SECONDS,
        reconcile_seconds: float = LIVE_RECONCILE_SECONDS,
    ) -> None:
        self.store = store
        self.service = service
        self.kb = kb
        self.poll_seconds = poll_seconds
        self.reconcile_seconds = reconcile_seconds
        #: The change counter last applied, and the entry versions indexed, per server.
        self._versions: dict[int, int] = {}
        self._indexed: dict[int, dict[str, int]] = {}
        self._task: asyncio.Task[None] | None = None
        #: Servers reloaded so far (for metrics and tests).
        self.reloads = 0

    def prime(self, versions: dict[Scope, int], entries: Iterable[StoredEntry]) -> None:
        """What start-up indexed: the counters read *before* the entries, so a change that
        lands in between is seen as a change."""
        for scope, version in versions.items():
            if scope is not None:
                self._versions[scope] = version
        for stored in entries:
            if stored.scope is not None:
                self._indexed.setdefault(stored.scope, {})[stored.id] = stored.version

    def start(self) -> None:
        if self._task is None and self.store.available:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="live-updates")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        warned = False
        while True:
            try:
                async with self.store.change_feed(self.poll_seconds) as feed:
                    while True:
                        hint = await feed.wait(self.reconcile_seconds)
                        # A hint names servers; None (reconnected) or a timeout compares all.
                        await self.refresh(hint or None)
                        warned = False
            except StoreError as exc:
                if not warned:
                    warned = True
                    log.warning("live updates paused (%s: %s); retrying", type(exc).__name__, exc)
            except Exception:  # a bug must not stop live updates for good
                log.exception("live updates failed; retrying")
            await asyncio.sleep(max(self.poll_seconds, 1.0))

    async def refresh(self, scopes: set[Scope] | None = None) -> list[int]:
        """Reload the servers (all, or `scopes`) whose change counter moved; returns them."""
        versions = await self.store.scope_versions(scopes)
        changed = [s for s, v in versions.items() if s is not None and self._versions.get(s) != v]
        for scope in changed:
            await self._reload(scope, versions[scope])
        return changed

    async def _reload(self, scope: int, version: int) -> None:
        started = time.perf_counter()
        entries = await self.store.active_entries(scope)
        before = self._indexed.get(scope, {})
        now: dict[str, int] = {}
        touched = 0
        for stored in entries:
            now[stored.id] = stored.version
            if before.get(stored.id) != stored.version:
                # Read on the worker pool, one entry at a time: a server that imported hundreds
                # of entries elsewhere does not hold every other server's answers here.
                await index_entry_soon(self.service, self.kb, stored)
                touched += 1
        for entry_id in before.keys() - now.keys():
            self.service.remove_entry(scope, entry_id)
            touched += 1
        self._indexed[scope] = now
        self._versions[scope] = version
        self.reloads += 1
        log.info(
            "server %s changed (version %d): %s re-indexed in %.1f ms",
            scope,
            version,
            plural(touched, "entry"),
            (time.perf_counter() - started) * 1000,
        )
