from __future__ import annotations

from bot.core.loader import KnowledgeBase


def test_locate_reports_body_paragraphs_and_headline(kb: KnowledgeBase) -> None:
    text = kb.text_of("article")
    assert text.locate("U.S. and Japan affirm their unwavering support for Ukraine") == "headline"
    assert text.locate("Russia's war of aggression against Ukraine") == "¶1"
    assert text.locate("culminating in the Hiroshima Summit") == "¶6"
    assert text.locate("Joshua Roberts / Reuters via Al Jazeera") == "¶14"


def test_locate_refuses_what_is_not_there(kb: KnowledgeBase) -> None:
    text = kb.text_of("article")
    assert text.locate("Blinken praised pizza") is None
    assert text.locate("") is None
    # Case matters for verbatim: the article never writes this in capitals.
    assert text.locate("RUSSIA'S WAR") is None


def test_excerpt_spanning_paragraphs_gets_a_range(kb: KnowledgeBase) -> None:
    text = kb.text_of("article")
    assert text.locate("energy sector. In their joint statement") == "¶2–¶3"


def test_closest_passage_offers_pasteable_verbatim_text(kb: KnowledgeBase) -> None:
    text = kb.text_of("article")
    passage = text.closest_passage("Blinken said we stand with Ukraine against Putin's war")
    assert passage.location == "¶5"
    assert text.locate(passage.text) == "¶5"
    assert passage.score > 60
    # Widened to the whole sentence, so it does not stop mid-thought before "Putin's war".
    assert "President Putin's war" in passage.text
