"""Rendering details that tests over the fake Discord would only show indirectly."""

from __future__ import annotations

from bot.core.answers import AnswerService
from bot.discord_app import render
from tests.reliability.helpers import RAW_MENTION


def test_a_moderators_speaker_is_escaped_in_the_answer_embed(service: AnswerService) -> None:
    """A moderator's speaker once reached the field name raw (`<@&…> **Blinken**`)."""
    answer = service.answer("Who attended the meeting?")
    hostile = "<@&123456789012345678> **Blinken** @everyone [x](https://e.com)"
    citation = answer.citations[0]
    answer = answer.model_copy(update={"citations": [citation.model_copy(update={"speaker": hostile})]})
    name = render.answer_embed(answer).fields[0].name
    assert name is not None
    assert not RAW_MENTION.search(name), name
    assert "**" not in name.replace("\\*", "") and "\\*\\*Blinken\\*\\*" in name
    assert name.endswith(f"\u00b7 {citation.location}")
