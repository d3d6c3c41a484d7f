"""The core application: curated knowledge, the answer index and the store, started together.

Adapters (CLI, Discord) hold one `Assistant`. Loading and indexing the knowledge base is CPU
work, so it runs in a worker thread and never blocks an event loop that is already serving.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from bot.core.answers import Answer, AnswerService
from bot.core.limits import FEEDBACK_WAIT_SECONDS, MAX_QUESTION_CHARS, QUESTION_LOG_BACKLOG
from bot.core.live import LiveUpdates, index_entry
from bot.core.loader import KnowledgeBase, load_knowledge
from bot.core.models import Scope
from bot.core.observers import AssistantObserver
from bot.core.questionlog import QuestionLog
from bot.core.store import (
    Store,
    StoreBusy,
    StoredEntry,
    StoreError,
    StoreFull,
    StoreReadOnly,
    StoreUnavailable,
)
from bot.core.text import valid_unicode
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AskResult:
    answer: Answer
    #: Id of the question in the store's log (None when it will not be recorded there). The
    #: log is written behind the answer, so a feedback vote goes through `record_feedback`.
    question_id: int | None


class Assistant:
    def __init__(self, settings: Settings, kb: KnowledgeBase, service: AnswerService, store: Store) -> None:
        self.settings = settings
        self.kb = kb
        self.service = service
        self.store = store
        #: The question log, written behind the answers (see `bot.core.questionlog`).
        self.questions = QuestionLog(store)
        #: Other processes' changes, followed once `watch_changes` is called.
        self.live = LiveUpdates(store, service, kb)
        #: Told of every answer (the bot's metrics); none in the CLI.
        self.observers: list[AssistantObserver] = []

    @classmethod
    async def start(cls, settings: Settings, *, read_only: bool = False) -> Assistant:
        """Load the knowledge, build the index and open the store.

        The curated base answers whatever state the database is in: a database that cannot be
        opened (a directory, a damaged file, a full disk, a lock held too long...) gives one
        warning naming the file and the cause, and a store whose every use says it is
        unavailable (so curation commands explain themselves) instead of a failed start.
        """
        kb = await asyncio.to_thread(load_knowledge, settings.knowledge_dir)
        service = await asyncio.to_thread(lambda: AnswerService(kb, **settings.answer_options()))
        store = await _open_store(settings, read_only)
        guild_entries: list[StoredEntry] = []
        versions: dict[Scope, int] = {}
        if store.available:
            try:
                versions, guild_entries = await _sync_and_read(store, kb)
            except StoreError as exc:
                await store.close()
                store = _unavailable(settings, exc)
            except BaseException:
                await store.close()
                raise
        for stored in guild_entries:
            index_entry(service, kb, stored)
        assistant = cls(settings, kb, service, store)
        assistant.live.prime(versions, guild_entries)
        return assistant

    def watch_changes(self) -> None:
        """Answer with changes committed by any process within seconds (see `bot.core.live`);
        for a long-running process. Stopped by `close`."""
        self.live.start()

    async def close(self) -> None:
        try:
            await self.live.stop()
            await self.questions.close()
        finally:
            await self.store.close()

    async def ask_document(
        self,
        question: str,
        key: str,
        scope: Scope = None,
        *,
        channel_id: int | None = None,
        user_id: int | None = None,
    ) -> AskResult | None:
        """Answer with a known document (a suggestion the user chose); None if it is gone."""
        doc = self.service.document(scope, key)
        if doc is None:
            return None
        started = time.perf_counter()
        answer = self.service.render_document(valid_unicode(question), doc)
        self._observe(answer, time.perf_counter() - started)
        result = self._logged(answer, scope, channel_id, user_id)
        await self._let_the_log_write()
        return result

    async def ask(
        self, question: str, scope: Scope = None, *, channel_id: int | None = None, user_id: int | None = None
    ) -> AskResult:
        # One path for the CLI and Discord: undecodable input is answered, never an apology.
        started = time.perf_counter()
        answer = self.service.answer(valid_unicode(question), scope)
        self._observe(answer, time.perf_counter() - started)
        result = self._logged(answer, scope, channel_id, user_id)
        await self._let_the_log_write()
        return result

    def _observe(self, answer: Answer, seconds: float) -> None:
        for observer in self.observers:
            observer.answered(answer, seconds)

    async def _let_the_log_write(self) -> None:
        """Give the log writer its turn, even to a caller that asks without ever waiting on
        anything else (`ask --jsonl` on a long file): one turn of the event loop, and with a
        backlog a millisecond's sleep, so the database's thread gets the interpreter too."""
        backlog = self.questions.pending >= QUESTION_LOG_BACKLOG
        await asyncio.sleep(0.001 if backlog else 0)

    async def record_feedback(self, question_id: int, user_id: int, helpful: bool) -> None:
        """A vote on an answer; waits (briefly) for the answer's log entry to be written first."""
        if self.questions.is_pending(question_id):
            await self.questions.flush(FEEDBACK_WAIT_SECONDS)
        await self.store.record_feedback(question_id, user_id, helpful)

    def _logged(self, answer: Answer, scope: Scope, channel_id: int | None, user_id: int | None) -> AskResult:
        # Queued, never awaited: a busy, locked or missing database must not delay an answer.
        question_id = self.questions.submit(
            scope,
            channel_id,
            user_id,
            answer.question[:MAX_QUESTION_CHARS],
            answer.answered,
            answer.entry_id,
            answer.confidence,
        )
        return AskResult(answer, question_id)


async def _open_store(settings: Settings, read_only: bool) -> Store:
    # Said at every start: the default location depends on the user, not the directory.
    log.info("database: %s", settings.database)
    try:
        return await Store.open(
            settings.database,
            busy_timeout=settings.db_busy_timeout,
            read_only=read_only,
            pool_size=settings.db_pool_size,
        )
    except StoreUnavailable as exc:
        return _unavailable(settings, exc)


def _unavailable(settings: Settings, exc: StoreError) -> Store:
    cause = exc.cause if isinstance(exc, StoreUnavailable) else _describe(exc)
    log.warning(
        "answering from the curated knowledge files only: the database %s cannot be used: %s. "
        "Server entries, curation, the question log and feedback are unavailable until it is fixed "
        "and the bot restarted.",
        settings.database,
        cause,
    )
    return Store.unavailable(settings.database, cause)


def _describe(exc: StoreError) -> str:
    original = exc.__cause__
    return f"{type(exc).__name__}: {original or exc}"


async def _sync_and_read(store: Store, kb: KnowledgeBase) -> tuple[dict[Scope, int], list[StoredEntry]]:
    """Sync the curated base into the store, then read the change counters and the servers'
    entries (in that order: a change landing in between then shows as one).

    The sync only keeps the base's history current (answers come from the files), so a
    database that is busy, full or read-only at start-up costs a warning, not the start."""
    if not store.read_only:
        try:
            report = await store.seed_base(kb.entries)
            log.info("knowledge base synced to the store: %s", report)
        except (StoreBusy, StoreFull, StoreReadOnly) as exc:
            log.warning(
                "could not sync the curated base into %s (%s); answering from the knowledge files",
                store.location,
                _describe(exc),
            )
    versions = await store.scope_versions()
    return versions, [s for s in await store.all_active_entries() if s.scope is not None]
