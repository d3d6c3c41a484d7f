from __future__ import annotations

from pathlib import Path

from bot.core.assistant import Assistant
from bot.core.models import Citation, Entry
from bot.core.store import StoreError
from bot.settings import Settings

GUILD = 111_111_111_111_111_111


async def test_start_seeds_the_store_and_answers(tmp_path: Path) -> None:
    assistant = await Assistant.start(Settings(database=tmp_path / "db.sqlite3"))
    try:
        result = await assistant.ask("who attended", GUILD, channel_id=1, user_id=2)
        assert result.answer.answered and result.question_id is not None
        assert await assistant.store.count_entries(None) == len(assistant.kb.entries)
    finally:
        await assistant.close()


async def test_a_server_entry_whose_excerpt_left_the_source_is_kept_but_not_quoted(tmp_path: Path) -> None:
    settings = Settings(database=tmp_path / "db.sqlite3")
    assistant = await Assistant.start(settings)
    stale = Entry(
        id="stale",
        questions=["What is the stale fact?"],
        answer="Stale.",
        citations=[Citation(source="article", excerpt="This sentence was in an older copy of the article")],
    )
    try:
        await assistant.store.create_entry(GUILD, stale, actor_id=1)
    finally:
        await assistant.close()
    restarted = await Assistant.start(settings)
    try:
        assert await restarted.store.get_entry(GUILD, "stale") is not None
        assert restarted.service.answer("What is the stale fact?", GUILD).entry_id != "stale"
    finally:
        await restarted.close()


async def test_a_failing_question_log_does_not_cost_the_answer(tmp_path: Path) -> None:
    assistant = await Assistant.start(Settings(database=tmp_path / "db.sqlite3"))

    async def broken(*args: object, **kwargs: object) -> int:
        raise StoreError("The knowledge base is busy right now; please try again in a moment.")

    assistant.store.log_questions = broken  # type: ignore[method-assign]
    try:
        result = await assistant.ask("who attended", None)
        assert result.answer.answered
        assert await assistant.questions.flush(5)
        assert assistant.questions.dropped == 1 and assistant.questions.written == 0
    finally:
        await assistant.close()


async def test_lone_surrogates_are_answered_and_logged(tmp_path: Path) -> None:
    """What `python -m bot ask $'...\\xff'` and a JSON "\\ud800" escape from Discord both give."""
    assistant = await Assistant.start(Settings(database=tmp_path / "db.sqlite3"))
    try:
        for question in ("who attended \udcff", "\ud800 where was the meeting held \udfff", "\ud83d\ude00"):
            result = await assistant.ask(question, GUILD, channel_id=1, user_id=2)
            assert result.question_id is not None
            result.answer.question.encode("utf-8")  # valid Unicode from here on
        assert (await assistant.ask("who attended \udcff", None)).answer.answered
    finally:
        await assistant.close()
