"""Server entries read on the worker pool: the latest change wins, a removal is not undone."""

from __future__ import annotations

import asyncio

from bot.core.answers import AnswerService
from bot.core.loader import KnowledgeBase
from bot.core.models import Citation, Entry

SERVER = 4242


def _entry(answer: str, more: int = 0) -> Entry:
    # `more` phrasings of made-up words make the entry slow to read (fuzzy name matching).
    filler = [" ".join(f"zq{i}x{j}vorp" for j in range(30)) for i in range(more)]
    return Entry(
        id="lunch-menu",
        questions=["What was served for lunch at the talks?", *filler],
        answer=answer,
        citations=[
            Citation(source="article", excerpt="attended by U.S. Secretary of State Antony J. Blinken")
        ],
    )


async def test_an_entry_read_on_the_worker_pool_answers(kb: KnowledgeBase) -> None:
    service = AnswerService(kb)
    await service.upsert_entry_soon(SERVER, _entry("First version."))
    assert service.answer("What was served for lunch at the talks?", SERVER).answer == "First version."


async def test_a_later_change_wins_over_one_still_being_read(kb: KnowledgeBase) -> None:
    service = AnswerService(kb)
    pending = asyncio.ensure_future(service.upsert_entry_soon(SERVER, _entry("Older version.", more=9)))
    await asyncio.sleep(0)  # the older version is being read on the worker pool
    service.upsert_entry(SERVER, _entry("Newer version."))
    await pending
    assert service.answer("What was served for lunch at the talks?", SERVER).answer == "Newer version."


async def test_a_removal_while_an_entry_is_read_is_not_undone(kb: KnowledgeBase) -> None:
    service = AnswerService(kb)
    pending = asyncio.ensure_future(service.upsert_entry_soon(SERVER, _entry("Removed version.")))
    await asyncio.sleep(0)  # the reading has started on the worker pool
    service.remove_entry(SERVER, "lunch-menu")
    await pending
    assert service.document(SERVER, "lunch-menu") is None
