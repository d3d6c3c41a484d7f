from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from bot.core.entities import EntityLexicon
from bot.core.models import Entity

LEXICON = EntityLexicon(
    [
        Entity(
            id="blinken", name="Antony J. Blinken", kind="person", aliases=["Blinken", "Secretary of State"]
        ),
        Entity(id="hamada", name="Hamada Yasukazu", kind="person", aliases=["Hamada", "Yasukazu Hamada"]),
        Entity(id="united-states", name="United States", kind="country", aliases=["US", "U.S.", "America"]),
        Entity(id="scholz", name="Olaf Scholz", kind="person", aliases=["Scholz"], in_source=False),
    ]
)


def ids(text: str, vocabulary: set[str] | None = None) -> list[str]:
    return [m.entity_id for m in LEXICON.recognize(text, vocabulary or set())]


def test_exact_aliases_and_full_names() -> None:
    assert ids("What did Antony J. Blinken say?") == ["blinken"]
    assert ids("who is the secretary of state") == ["blinken"]
    assert ids("Yasukazu Hamada and Blinken") == ["hamada", "blinken"]


def test_typos_resolve_to_the_entity() -> None:
    assert ids("wat did blinkn say") == ["blinken"]
    assert ids("who is hamata") == ["hamada"]
    assert ids("secretery of state") == ["blinken"]


def test_a_name_of_several_words_is_misspelt_word_by_word() -> None:
    # "secretary of defense" is close to "secretary of state" as a string, but not a typo of it.
    assert ids("who is the secretary of defense") == []
    assert ids("who is the secretery of stat") == ["blinken"]


def test_fuzzy_match_reports_a_lower_score() -> None:
    [mention] = LEXICON.recognize("blinkn")
    assert 0.8 < mention.score < 1.0


def test_known_words_are_not_bent_into_names() -> None:
    # "hamlet" is close to nothing here, but a known vocabulary word must never fuzzy-match.
    assert ids("blinked", vocabulary={"blinked"}) == []


def test_short_capitalised_aliases_need_capitals() -> None:
    assert ids("Who was there for the US?") == ["united-states"]
    assert ids("Who was there for the U.S.?") == ["united-states"]
    assert ids("tell us more") == []


def test_entities_not_in_the_source_are_flagged() -> None:
    [mention] = LEXICON.recognize("What did Olaf Scholz say?")
    assert mention.entity_id == "scholz"
    assert mention.in_source is False


@given(st.text(max_size=200))
def test_recognize_never_raises_and_mentions_do_not_overlap(text: str) -> None:
    mentions = LEXICON.recognize(text)
    spans = sorted((m.start, m.end) for m in mentions)
    for (_, end), (start, _) in itertools.pairwise(spans):
        assert end <= start


# ---- the recognition memos ---------------------------------------------------------------------
MEMO_ENTITIES = [
    Entity(id="blinken", name="Antony J. Blinken", kind="person", aliases=["Blinken", "Secretary of State"]),
    Entity(id="hamada", name="Hamada Yasukazu", kind="person", aliases=["Hamada", "Yasukazu Hamada"]),
    Entity(id="united-states", name="United States", kind="country", aliases=["US", "America"]),
]
NAMEISH = st.lists(
    st.sampled_from(
        ["blinkn", "Blinken", "secretary", "of", "state", "hamata", "US", "us", "who", "said", "x"]
    ),
    max_size=8,
).map(" ".join)


@given(NAMEISH, st.sets(st.sampled_from(["state", "hamata", "blinkn"])))
def test_memoised_recognition_equals_a_fresh_lexicon(text: str, vocabulary: set[str]) -> None:
    warm = EntityLexicon(MEMO_ENTITIES)
    warm.recognize(text)
    warm.recognize(text, vocabulary)
    assert warm.recognize(text) == EntityLexicon(MEMO_ENTITIES).recognize(text)
    assert warm.recognize(text, vocabulary) == EntityLexicon(MEMO_ENTITIES).recognize(text, vocabulary)


def test_adding_an_alias_clears_the_recognition_memos() -> None:
    lexicon = EntityLexicon(MEMO_ENTITIES)
    assert lexicon.recognize("Kishida spoke") == []
    lexicon.add(Entity(id="kishida", name="Fumio Kishida", kind="person", aliases=["Kishida"]))
    assert [m.entity_id for m in lexicon.recognize("Kishida spoke")] == ["kishida"]
