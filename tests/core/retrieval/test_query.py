"""A question as weighted terms: typos, synonyms, unknown words, and whose words it asks for."""

from __future__ import annotations

from bot.core.answers import AnswerService
from bot.core.retrieval import asks_for_words


def test_typos_are_tolerated(service: AnswerService) -> None:
    answer = service.answer("who atended the meetng")
    assert answer.entry_id == "attendees"
    query = service.engine.analyze("who atended the meetng")
    assert query.corrections == {"atended": "attended", "meetng": "meeting"}
    assert "Putin" in service.answer("wat did blinkn say abt putin").citations[0].excerpt


def test_unknown_words_that_carry_the_question_make_it_abstain(service: AnswerService) -> None:
    # The Contact Group is known; its budget is not in the article.
    answer = service.answer("What was the budget of the Contact Group?")
    assert not answer.answered
    assert service.engine.analyze("What was the budget of the Contact Group?").oov == ("budget",)


def test_curated_synonyms_read_unknown_words_as_known_ones(service: AnswerService) -> None:
    query = service.engine.analyze("Did they reference the United Nations Charter?")
    assert query.corrections == {"reference": "mention"}
    assert service.answer("What do the pictures show?").entry_id in {
        "photo-who",
        "photo-credit",
        "photo-when-where",
    }


def test_a_country_speaks_through_its_ministers(service: AnswerService) -> None:
    assert service.answer("What did Japan say about China?").answered
    beijing = service.answer("What did Beijing say?")
    assert not beijing.answered and "does not quote China" in beijing.answer


def test_a_name_after_say_about_is_the_topic_not_the_speaker(service: AnswerService) -> None:
    assert service.engine.analyze("what did they say about NATO").speaker is None
    assert service.engine.analyze("a quote from the foreign minister").speaker == "hayashi"
    assert service.engine.analyze("how was the war described in the joint statement").speaker is None


def test_real_words_are_not_corrected_into_other_words(service: AnswerService) -> None:
    # "spending" is not a misspelt "sending", nor "tanks" a misspelt "thanks".
    assert service.engine.analyze("How much is the US spending on Ukraine?").oov == ("spending",)
    assert service.engine.analyze("How many tanks were sent?").corrections == {}
    # The same word in the other spelling still is corrected.
    assert service.engine.analyze("How did they characterize the war?").corrections == {
        "characterize": "characterised"
    }


def test_asks_for_words_recognises_speech_verbs() -> None:
    assert asks_for_words("What did Blinken say about Putin?")
    assert asks_for_words("any quotes from Austin")
    assert not asks_for_words("Who attended the meeting?")
