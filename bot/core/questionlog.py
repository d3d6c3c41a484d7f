"""The question log, written behind the answer.

An answer never waits for the database: `QuestionLog.submit` gives the question its id at
once (so the answer's feedback buttons can name it) and queues it; one writer task writes the
queue in batches. The queue is bounded (`QUESTION_LOG_QUEUE`): when it is full, or the
database cannot take the write (busy past its timeout, read-only, full, unavailable), the
entry is dropped and counted, and the first drop of an outage is logged as one warning.

Ids are made in process, like Discord's snowflakes: milliseconds since 2023, a random node
number per process and a sequence, so processes sharing one database do not collide (an id
that does is skipped by the store, never overwritten).

This module is part of the core: it never imports discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime

from bot.core.limits import QUESTION_LOG_BATCH, QUESTION_LOG_CLOSE_SECONDS, QUESTION_LOG_QUEUE
from bot.core.models import Scope
from bot.core.store import LoggedQuestion, Store, StoreError
from bot.core.wording import plural

log = logging.getLogger(__name__)

#: 2023-01-01T00:00:00Z in milliseconds: the epoch of question ids.
_EPOCH_MS = 1_672_531_200_000


class QuestionIds:
    """Unique, increasing 63-bit ids: 41 bits of milliseconds, 10 of node, 12 of sequence."""

    def __init__(self, node: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self._node = (secrets.randbelow(1024) if node is None else node) & 0x3FF
        self._clock = clock
        self._last_ms = 0
        self._seq = 0

    def next(self) -> int:
        ms = max(int(self._clock() * 1000) - _EPOCH_MS, self._last_ms)
        if ms == self._last_ms:
            self._seq += 1
            if self._seq > 0xFFF:  # 4,096 ids in one millisecond: borrow the next one
                ms, self._seq = ms + 1, 0
        else:
            self._seq = 0
        self._last_ms = ms
        return (ms << 22) | (self._node << 12) | self._seq


class QuestionLog:
    """A bounded queue of asked questions and the task that writes it to the store."""

    def __init__(
        self,
        store: Store,
        *,
        capacity: int = QUESTION_LOG_QUEUE,
        batch: int = QUESTION_LOG_BATCH,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self._queue: asyncio.Queue[LoggedQuestion] = asyncio.Queue(maxsize=capacity)
        self._batch = batch
        self._clock = clock or (lambda: datetime.now(UTC))
        self._ids = QuestionIds()
        self._pending: set[int] = set()
        self._writer: asyncio.Task[None] | None = None
        self._warned = False
        #: Entries written, and entries dropped (queue full or database unavailable).
        self.written = 0
        self.dropped = 0

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def submit(
        self,
        scope: Scope,
        channel_id: int | None,
        user_id: int | None,
        question: str,
        answered: bool,
        entry_id: str | None,
        confidence: float,
    ) -> int | None:
        """Queue one asked question; its id, or None when it is dropped (never waits)."""
        if not self.store.available or self.store.read_only:
            # Said once already, at start-up; the answer carries no feedback buttons.
            self.dropped += 1
            return None
        item = LoggedQuestion(
            id=self._ids.next(),
            scope=scope,
            channel_id=channel_id,
            user_id=user_id,
            question=question,
            answered=answered,
            entry_id=entry_id,
            confidence=confidence,
            at=self._clock(),
        )
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self._drop(1, f"{self._queue.maxsize:,} questions were already waiting to be written")
            return None
        self._pending.add(item.id)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.get_running_loop().create_task(self._write_forever(), name="question-log")
        return item.id

    def is_pending(self, question_id: int) -> bool:
        return question_id in self._pending

    async def flush(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait until everything queued so far is written or dropped; False on timeout."""
        if self._queue.empty() and not self._pending:
            return True
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self, timeout: float = QUESTION_LOG_CLOSE_SECONDS) -> None:  # noqa: ASYNC109
        """Write what is queued (for up to `timeout` seconds), then stop the writer."""
        await self.flush(timeout)
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
        left = self._queue.qsize()
        if left:
            self._drop(left, "the bot stopped before they could be written")

    def _drop(self, count: int, why: str) -> None:
        self.dropped += count
        if not self._warned:
            self._warned = True
            log.warning(
                "question log: dropped %s (%s); answers are not affected; further drops are "
                "counted silently until a write succeeds",
                plural(count, "entry"),
                why,
            )

    async def _write_forever(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                self.written += await self.store.log_questions(batch)
                self._warned = False
            except StoreError as exc:
                self._drop(len(batch), f"{type(exc).__name__}: {exc}")
            except Exception:  # a bug must not stop the log for good
                log.exception("question log: could not write %d entries", len(batch))
                self.dropped += len(batch)
            finally:
                for item in batch:
                    self._pending.discard(item.id)
                    self._queue.task_done()
