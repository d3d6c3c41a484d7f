from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.limits import MAX_CLOSEST_PASSAGES, MAX_TAG_CHARS, MAX_TAGS, MIN_EXCERPT_WORDS
from bot.core.loader import KnowledgeError, load_knowledge
from tests.conftest import KNOWLEDGE, KbFactory, entry

PERSON = {"id": "blinken", "name": "Antony J. Blinken", "kind": "person", "aliases": ["Blinken"]}


def problems_of(root: Path | str) -> list[str]:
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    return [str(p) for p in info.value.problems]


def test_the_curated_knowledge_base_loads_and_covers_the_article() -> None:
    kb = load_knowledge(KNOWLEDGE)
    stats = kb.stats()
    assert stats["sources"] == 1
    assert stats["entries"] >= 40
    assert stats["quotes"] >= 8
    assert all(c.location for e in kb.entries for c in e.citations)


def test_valid_small_base_fills_in_locations(make_kb: KbFactory) -> None:
    kb = load_knowledge(make_kb(entries={"a.yaml": [entry()]}))
    assert kb.entries[0].citations[0].location == "¶1"


def test_excerpt_not_verbatim_names_file_entry_and_text(make_kb: KbFactory) -> None:
    bad = entry(citations=[{"source": "article", "excerpt": "Blinken attended a pizza party"}])
    [problem] = problems_of(make_kb(entries={"people.yaml": [bad]}))
    assert "entries/people.yaml" in problem
    assert "id='e1'" in problem
    assert "Blinken attended a pizza party" in problem


def test_typographic_quotes_and_whitespace_do_not_break_verbatim(make_kb: KbFactory) -> None:
    ok = entry(
        citations=[{"source": "article", "excerpt": "strongly   condemned Russia's brutal, \"unprovoked"}]
    )
    ok["citations"][0]["excerpt"] = "strongly condemned Russia's  brutal,\nunprovoked"
    kb = load_knowledge(make_kb(entries={"a.yaml": [ok]}))
    assert kb.entries[0].citations[0].location == "¶3"


def test_duplicate_entry_ids_across_files(make_kb: KbFactory) -> None:
    [problem] = problems_of(make_kb(entries={"a.yaml": [entry("same")], "b.yaml": [entry("same")]}))
    assert "duplicate entry id" in problem and "entries/a.yaml" in problem


def test_unknown_source_id(make_kb: KbFactory) -> None:
    bad = entry(citations=[{"source": "nosuch", "excerpt": "Blinken"}])
    [problem] = problems_of(make_kb(entries={"a.yaml": [bad]}))
    assert "unknown source id 'nosuch'" in problem


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("answer", "   ", "answer"),
        ("questions", [], "questions"),
        ("citations", [], "citations"),
        ("id", "Bad Id!", "id"),
    ],
)
def test_empty_or_malformed_fields(make_kb: KbFactory, field: str, value: object, message: str) -> None:
    [problem] = problems_of(make_kb(entries={"a.yaml": [entry(**{field: value})]}))
    assert message in problem


def test_unknown_fields_are_rejected(make_kb: KbFactory) -> None:
    [problem] = problems_of(make_kb(entries={"a.yaml": [entry(anwser="typo")]}))
    assert "anwser" in problem


def test_broken_yaml_names_the_file(make_kb: KbFactory) -> None:
    [problem] = problems_of(make_kb(raw_files={"entries/broken.yaml": "entries: [\n  - id: x\n"}))
    assert "entries/broken.yaml" in problem and "invalid YAML" in problem


def test_yaml_alias_bomb_is_refused(make_kb: KbFactory) -> None:
    bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nentries: [*c]\n"
    [problem] = problems_of(make_kb(raw_files={"entries/bomb.yaml": bomb}))
    assert "aliases" in problem


def test_wrong_top_level_shape(make_kb: KbFactory) -> None:
    [problem] = problems_of(make_kb(raw_files={"entries/list.yaml": "- id: x\n"}))
    assert "list under 'entries:'" in problem


def test_quote_must_be_verbatim_and_have_known_speaker(make_kb: KbFactory) -> None:
    quotes = [
        {
            "id": "q1",
            "speaker": "blinken",
            "text": "We stand together with Ukraine",
            "source": "article",
            "context": "c",
        },
        {"id": "q2", "speaker": "blinken", "text": "We never said this", "source": "article", "context": "c"},
        {"id": "q3", "speaker": "nobody", "text": "We stand together", "source": "article", "context": "c"},
    ]
    found = problems_of(make_kb(entities=[PERSON], quotes=quotes))
    assert any("id='q2'" in p and "not verbatim" in p for p in found)
    assert any("id='q3'" in p and "unknown speaker" in p for p in found)
    assert len(found) == 2


def test_entry_with_unknown_entity(make_kb: KbFactory) -> None:
    [problem] = problems_of(make_kb(entities=[PERSON], entries={"a.yaml": [entry(entities=["nosuch"])]}))
    assert "unknown entity" in problem and "nosuch" in problem


def test_every_problem_is_reported_and_nothing_half_loads(make_kb: KbFactory) -> None:
    bad1 = entry("one", answer="")
    bad2 = entry("two", citations=[{"source": "article", "excerpt": "not in the article at all"}])
    good = entry("three")
    found = problems_of(make_kb(entries={"a.yaml": [bad1, good, bad2]}))
    assert len(found) == 2


def test_missing_directory() -> None:
    [problem] = problems_of("/nonexistent/knowledge")
    assert "not found" in problem


def test_synonyms_map_one_word_to_one_word(make_kb: KbFactory) -> None:
    root = make_kb(raw_files={"synonyms.yaml": "synonyms:\n  Pics: photo\n  cabinet members: ministers\n"})
    [problem] = problems_of(root)
    assert "synonyms.yaml: 'cabinet members'" in problem and "one word to one word" in problem
    (root / "synonyms.yaml").write_text("synonyms:\n  Pics: photo\n")
    assert load_knowledge(root).synonyms == {"pics": "photo"}


def test_declines_need_questions_and_a_reply(make_kb: KbFactory) -> None:
    text = (
        "declines:\n  - id: small-talk\n    questions: [hello]\n"
        "  - id: ok\n    questions: [hi]\n    reply: Hi!\n"
    )
    [problem] = problems_of(make_kb(raw_files={"declines.yaml": text}))
    assert "declines.yaml: id='small-talk'" in problem and "reply" in problem


# ---- a citation must prove something; lists are bounded ---------------------------------------


@pytest.mark.parametrize(
    ("excerpt", "reason"),
    [
        ("e", "too short"),
        (",", "too short"),
        ("Blinken", "too short"),
        ("ttended by U.S. Secretary", "middle of a word"),
        ("attended by U.S. Secretar", "middle of a word"),
    ],
)
def test_an_excerpt_must_be_a_few_whole_words(make_kb: KbFactory, excerpt: str, reason: str) -> None:
    cited = entry(citations=[{"source": "article", "excerpt": excerpt}])
    [problem] = problems_of(make_kb(entries={"a.yaml": [cited]}))
    assert "id='e1'" in problem and reason in problem and repr(excerpt) in problem
    if reason == "too short":
        assert f"at least {MIN_EXCERPT_WORDS} whole words" in problem


def test_three_whole_words_are_enough(make_kb: KbFactory) -> None:
    cited = entry(citations=[{"source": "article", "excerpt": "January 12,2023"}])
    assert load_knowledge(make_kb(entries={"a.yaml": [cited]})).entries[0].citations[0].location


def test_tags_and_entity_links_are_bounded(make_kb: KbFactory) -> None:
    found = problems_of(make_kb(entries={"a.yaml": [entry(tags=[f"t{n}" for n in range(20_000)])]}))
    assert any(f"the limit is {MAX_TAGS}" in p for p in found)
    found = problems_of(make_kb(entries={"a.yaml": [entry(tags=["x" * (MAX_TAG_CHARS + 1)])]}))
    assert any(f"the limit is {MAX_TAG_CHARS}" in p for p in found)


def test_a_non_verbatim_excerpt_is_shown_the_closest_passage_as_moderators_are(make_kb: KbFactory) -> None:
    # The same search the curation path runs (SourceText.closest_passage), in the same words.
    near = "Hayashi outlined the major outcomes of the talks"
    [problem] = problems_of(
        make_kb(entries={"a.yaml": [entry(citations=[{"source": "article", "excerpt": near}])]})
    )
    article = load_knowledge(KNOWLEDGE).text_of("article")
    passage = article.closest_passage(near)
    assert passage.location == "¶10" and article.locate(passage.text) == "¶10"
    assert problem.endswith(f"excerpt is not verbatim in source 'article': {near!r}. {passage.suggestion()}")
    assert "Hayashi outlined major outcomes of the meeting" in problem


def test_the_closest_passage_search_stops_after_the_first_problems(make_kb: KbFactory) -> None:
    wrong = [
        entry(f"e{n}", citations=[{"source": "article", "excerpt": f"words nobody wrote number {n}"}])
        for n in range(MAX_CLOSEST_PASSAGES + 5)
    ]
    problems = problems_of(make_kb(entries={"a.yaml": wrong}))
    assert len(problems) == MAX_CLOSEST_PASSAGES + 5
    shown = ["The closest passage" in p for p in problems]
    assert shown == [True] * MAX_CLOSEST_PASSAGES + [False] * 5
