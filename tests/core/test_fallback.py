"""Article fallback: sentences of the article as answers of last resort."""

from __future__ import annotations

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from bot.core.answers import AnswerService
from bot.core.fallback import ANSWER_TEXT, split_sentences
from bot.core.loader import KnowledgeBase
from bot.core.text import normalize_verbatim


def test_sentences_split_at_ends_not_at_abbreviations() -> None:
    paragraph = (
        "Secretary Antony J. Blinken met in Washington, D.C. on Wednesday. "
        "He said, \u201cWe stand together.\u201d Then they left the room."
    )
    assert split_sentences(paragraph) == [
        "Secretary Antony J. Blinken met in Washington, D.C. on Wednesday.",
        "He said, \u201cWe stand together.\u201d",
        "Then they left the room.",
    ]


@given(st.text(alphabet=st.sampled_from(list('abc ABC.?!\u201c\u201d"')), max_size=200))
def test_every_sentence_is_a_verbatim_piece_of_its_paragraph(paragraph: str) -> None:
    for sentence in split_sentences(paragraph):
        assert sentence in paragraph


def test_every_article_sentence_is_verbatim(service: AnswerService, kb: KnowledgeBase) -> None:
    article = normalize_verbatim(kb.sources["article"].text)
    docs = service.fallback.engine.documents(None)
    assert len(docs) > 15
    for doc in docs:
        assert normalize_verbatim(doc.citations[0].excerpt) in article


def test_a_question_no_entry_answers_is_answered_from_the_article(kb: KnowledgeBase) -> None:
    # A base that knows only who attended: a question about NATO can only be answered from the article.
    sparse = AnswerService(replace(kb, entries=[e for e in kb.entries if e.id == "attendees"], quotes=[]))
    answer = sparse.answer("Which program did the US endorse?")
    assert answer.answered
    assert answer.answer == ANSWER_TEXT
    assert answer.entry_id is None  # no entry answered: /qa gaps lists it
    [citation] = answer.citations
    assert "Individually Tailored Partnership Program" in citation.excerpt and citation.location == "¶4"
    # A lower confidence than the passage's own match: it is not a curated answer.
    assert answer.confidence < sparse.fallback.search("Which program did the US endorse?")[0].score


def test_the_article_fallback_still_declines_what_the_article_does_not_say(kb: KnowledgeBase) -> None:
    sparse = AnswerService(replace(kb, entries=[e for e in kb.entries if e.id == "attendees"], quotes=[]))
    assert not sparse.answer("How much money did Japan pledge?").answered
    assert not sparse.answer("How old is Hayashi?").answered


def test_a_word_without_a_topic_is_not_answered_from_an_article_sentence(service: AnswerService) -> None:
    # "now" stands in a sentence of the article, but asks nothing that sentence answers.
    for message in ("now", "NOW", "now what"):
        assert not service.answer(message).answered
