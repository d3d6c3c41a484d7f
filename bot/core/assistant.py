"""The core application: curated knowledge, the answer index and the store, started together.

Adapters (CLI, Discord) hold one `Assistant`. Loading and indexing the knowledge base is CPU
work, so it runs in a worker thread and never blocks an event loop that is already serving.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.core.answers import Answer, AnswerService
from bot.core.loader import KnowledgeBase, Problem, check_citations, load_knowledge
from bot.core.models import Entry, Scope
from bot.core.store import Store, StoreError
from bot.core.text import valid_unicode
from bot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AskResult:
    answer: Answer
    #: Row id of the question in the store's log (None when the store could not record it).
    question_id: int | None


class Assistant:
    def __init__(self, settings: Settings, kb: KnowledgeBase, service: AnswerService, store: Store) -> None:
        self.settings = settings
        self.kb = kb
        self.service = service
        self.store = store

    @classmethod
    async def start(cls, settings: Settings, *, read_only: bool = False) -> Assistant:
        kb = await asyncio.to_thread(load_knowledge, settings.knowledge_dir)
        service = await asyncio.to_thread(lambda: AnswerService(kb, **settings.answer_options()))
        store = await Store.open(
            settings.database, busy_timeout=settings.db_busy_timeout, read_only=read_only
        )
        try:
            # `store.read_only`, not the flag: the store also opens read-only by itself when the
            # file cannot be written, and answering must still work then.
            if not store.read_only:
                report = await store.seed_base(kb.entries)
                log.info("knowledge base synced to the store: %s", report)
            guild_entries = [s for s in await store.all_active_entries() if s.scope is not None]
        except BaseException:
            await store.close()
            raise
        for stored in guild_entries:
            assert stored.scope is not None
            if _still_verbatim(stored.entry, kb):
                service.upsert_entry(stored.scope, stored.entry)
            else:
                # Kept in the store (nothing is lost), but never quoted while its excerpts no
                # longer stand in the source: a moderator can edit or revert it.
                log.warning(
                    "server %s entry %r no longer quotes its source verbatim", stored.scope, stored.id
                )
        return cls(settings, kb, service, store)

    async def close(self) -> None:
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
        answer = self.service.render_document(valid_unicode(question), doc)
        return await self._logged(answer, scope, channel_id, user_id)

    async def ask(
        self, question: str, scope: Scope = None, *, channel_id: int | None = None, user_id: int | None = None
    ) -> AskResult:
        # One path for the CLI and Discord: undecodable input is answered, never an apology.
        answer = self.service.answer(valid_unicode(question), scope)
        return await self._logged(answer, scope, channel_id, user_id)

    async def _logged(
        self, answer: Answer, scope: Scope, channel_id: int | None, user_id: int | None
    ) -> AskResult:
        question = answer.question
        question_id: int | None = None
        try:
            question_id = await self.store.log_question(
                scope,
                channel_id,
                user_id,
                question[:2000],
                answer.answered,
                answer.entry_id,
                answer.confidence,
            )
        except StoreError as exc:
            # Answering matters more than the log: a busy or read-only store must not cost an answer.
            log.warning("could not log the question: %s", exc)
        return AskResult(answer, question_id)


def _still_verbatim(entry: Entry, kb: KnowledgeBase) -> bool:
    problems: list[Problem] = []
    # Verbatim only: an excerpt saved before the whole-words minimum existed keeps answering.
    check_citations(entry.citations, kb.texts, "store", entry.id, problems, whole_words=False)
    return not problems
