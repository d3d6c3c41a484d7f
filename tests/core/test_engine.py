from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.answers import AnswerService
from bot.core.models import Citation, Entry

GUILD_A, GUILD_B = 111, 222


def top_key(service: AnswerService, question: str, scope: int | None = None) -> str | None:
    _, matches = service.engine.search(question, scope)
    return matches[0].doc.key if matches else None


def test_ranking_prefers_the_entry_that_answers(service: AnswerService) -> None:
    assert top_key(service, "Who attended the meeting?") == "attendees"
    assert top_key(service, "When was the 2+2 held?") == "meeting-date"
    assert top_key(service, "where did it take place") == "meeting-location"


def test_question_words_steer_between_similar_entries(service: AnswerService) -> None:
    assert top_key(service, "when is the contact group meeting") == "contact-group-when-where"
    assert (
        top_key(service, "how many ministers will attend the contact group") == "contact-group-participants"
    )


def test_typos_are_tolerated(service: AnswerService) -> None:
    answer = service.answer("who atended the meetng")
    assert answer.entry_id == "attendees"
    query = service.engine.analyze("who atended the meetng")
    assert query.corrections == {"atended": "attended", "meetng": "meeting"}
    assert "Putin" in service.answer("wat did blinkn say abt putin").citations[0].excerpt


def test_unknown_people_and_topics_abstain(service: AnswerService) -> None:
    scholz = service.answer("What did Olaf Scholz say at the 2+2?")
    assert not scholz.answered
    assert "Olaf Scholz" in scholz.answer
    assert not service.answer("What is the best pizza topping?").answered
    assert not service.answer("zzzz xxxx").answered


def test_asking_what_an_unquoted_person_said_does_not_borrow_someone_elses_words(
    service: AnswerService,
) -> None:
    answer = service.answer("What did Putin say about the meeting?")
    assert not answer.answered
    assert "does not quote" in answer.answer


def test_speaker_questions_draw_on_the_quote_store(service: AnswerService) -> None:
    answer = service.answer("what did austin say about how long they will support ukraine")
    assert answer.answered
    assert any("as long as it takes" in c.excerpt and c.speaker for c in answer.citations)


def test_unknown_words_that_carry_the_question_make_it_abstain(service: AnswerService) -> None:
    # The Contact Group is known; its budget is not in the article.
    answer = service.answer("What was the budget of the Contact Group?")
    assert not answer.answered
    assert service.engine.analyze("What was the budget of the Contact Group?").oov == ("budget",)


def test_abstention_suggests_close_questions(service: AnswerService) -> None:
    answer = service.answer("How many tanks did Germany send to Ukraine?")
    assert not answer.answered
    assert len(answer.suggestions) == len(answer.suggestion_keys) == service.max_suggestions
    assert any("Germany" in s for s in answer.suggestions)


def _guild_entry() -> Entry:
    return Entry(
        id="server-rules",
        questions=["What are the photo positions, left to right?"],
        answer="Left to right: Hamada, Hayashi, Blinken, Austin.",
        citations=[
            Citation(source="article", excerpt="Defense Minister Yasukazu Hamada (left)", location="¶14")
        ],
    )


def test_server_entries_answer_only_in_their_server(kb: object) -> None:
    from bot.core.loader import KnowledgeBase

    assert isinstance(kb, KnowledgeBase)
    service = AnswerService(kb)
    service.upsert_entry(GUILD_A, _guild_entry())
    question = "What are the photo positions, left to right?"
    assert top_key(service, question, GUILD_A) == "server-rules"
    assert top_key(service, question, GUILD_B) != "server-rules"
    assert top_key(service, question, None) != "server-rules"
    # The base still answers inside a server.
    assert top_key(service, "who attended the meeting", GUILD_A) == "attendees"
    service.remove_entry(GUILD_A, "server-rules")
    assert top_key(service, question, GUILD_A) != "server-rules"


def test_autocomplete_completes_the_word_being_typed(service: AnswerService) -> None:
    suggestions = service.autocomplete("where is the hiro")
    assert suggestions and len(suggestions) <= 25
    assert any("hiroshima" in s.lower() for s in suggestions[:5])
    assert 1 <= len(service.autocomplete("")) <= 25
    assert len(service.autocomplete("who", limit=3)) <= 3


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_text_gets_a_well_formed_answer(service: AnswerService, text: str) -> None:
    answer = service.answer(text)
    assert 0.0 <= answer.confidence <= 1.0
    if answer.answered:
        assert answer.citations and answer.entry_id
    else:
        assert not answer.citations and answer.entry_id is None


def test_curated_synonyms_read_unknown_words_as_known_ones(service: AnswerService) -> None:
    query = service.engine.analyze("Did they reference the United Nations Charter?")
    assert query.corrections == {"reference": "mention"}
    assert service.answer("Which pictures were published with the article?").entry_id in {
        "photo-who",
        "photo-credit",
        "photo-when-where",
    }


def test_small_talk_is_declined_with_a_friendly_reply(service: AnswerService) -> None:
    for question in ("What's your name?", "hello", "thank you"):
        answer = service.answer(question)
        assert not answer.answered and not answer.citations
        assert "2+2" in answer.answer
        assert answer.suggestions
    # A real question that shares words with small talk is still answered.
    assert service.answer("How are you sure Blinken attended?").entry_id == "attendees"
    assert all(not q.startswith("decline:") for q in service.autocomplete("hello"))


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
