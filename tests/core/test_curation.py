"""Tests of the moderator-curation service (bot.core.curation) on a real Assistant per test.

Each test gets its own SQLite file under tmp_path and the real curated knowledge base, so
"answers at once" is checked through the same AnswerService the bot uses.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.assistant import Assistant
from bot.core.curation import (
    MAX_SPEAKER_CHARS,
    CurationService,
    DraftInvalid,
    Gap,
    ImportInvalid,
    describe_change,
    describe_history,
    draft_from_text,
    draft_of,
    draft_text,
    group_questions,
)
from bot.core.limits import MAX_IMPORT_BYTES
from bot.core.models import Citation, Entry, EntryDraft
from bot.core.store import (
    EntryExists,
    EntryNotFound,
    LimitExceeded,
    ReadOnlyScope,
    Store,
    StoredEntry,
    VersionConflict,
)
from bot.settings import Settings

GUILD = 111_111_111_111_111_111
OTHER = 222_222_222_222_222_222
MOD = 42
MAX_ENTRIES = 20

#: Verbatim excerpts of the article (typographic apostrophe as published).
STAND = "We stand together with Ukraine against President Putin\u2019s war"
ATTENDED = "attended by U.S. Secretary of State Antony J. Blinken"
HAYASHI = "extremely meaningful exchange of views"
#: A question only a server entry can answer ("club" and "motto" are not in the base).
MOTTO_Q = "What is our club motto?"


@pytest.fixture
async def assistant(tmp_path: Path) -> AsyncIterator[Assistant]:
    started = await Assistant.start(Settings(database=tmp_path / "db.sqlite3"))
    try:
        yield started
    finally:
        await started.close()


@pytest.fixture
def curation(assistant: Assistant) -> CurationService:
    return CurationService(assistant, max_entries_per_guild=MAX_ENTRIES)


def motto_draft(**over: Any) -> EntryDraft:
    fields: dict[str, Any] = {
        "questions": [MOTTO_Q, "club motto"],
        "answer": "Our motto is Blinken's line about standing with Ukraine.",
        "excerpts": [STAND],
        "speaker": "Antony J. Blinken",
    }
    fields.update(over)
    return EntryDraft(**fields)


def answers(assistant: Assistant, question: str, scope: int | None) -> str | None:
    """The entry id answering `question` in `scope`, or None if the bot abstains."""
    answer = assistant.service.answer(question, scope)
    return answer.entry_id if answer.answered else None


def problems_of(curation: CurationService, draft: EntryDraft) -> list[str]:
    with pytest.raises(DraftInvalid) as info:
        curation.build_entry(draft, "x")
    return info.value.problems


async def snapshot(curation: CurationService, scope: int) -> list[tuple[str, int, bool]]:
    """What an import must not change: every id with its version and deleted flag."""
    live = await curation.store.active_entries(scope)
    return [(s.id, s.version, s.deleted) for s in live]


# ---- drafts --------------------------------------------------------------------------------


def test_draft_from_text_splits_lines_and_drops_blanks() -> None:
    draft = draft_from_text("  One?\n\n Two? \n", "  An answer. ", f"{STAND}\n\n", "   ")
    assert draft.questions == ["One?", "Two?"]
    assert draft.answer == "An answer."
    assert draft.excerpts == [STAND]
    assert draft.speaker is None
    assert draft_from_text(*draft_text(draft)) == draft


async def test_create_answers_at_once_in_its_server_only(
    assistant: Assistant, curation: CurationService
) -> None:
    assert answers(assistant, MOTTO_Q, GUILD) is None
    stored = await curation.create(GUILD, motto_draft(), MOD)
    assert stored.id == "what-is-our-club-motto"
    assert stored.version == 1 and stored.updated_by == MOD
    [cit] = stored.entry.citations
    assert (cit.source, cit.location, cit.speaker) == ("article", "¶5", "Antony J. Blinken")
    assert answers(assistant, MOTTO_Q, GUILD) == stored.id
    assert answers(assistant, MOTTO_Q, OTHER) is None
    assert answers(assistant, MOTTO_Q, None) is None
    # The base still answers in the server.
    assert answers(assistant, "Who is Blinken?", GUILD) == "who-is-blinken"


LONG_PHRASING = "Who " + "x" * 408  # 412 characters


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"questions": []}, "Add at least one question phrasing (one per line)."),
        ({"questions": [f"Question {i}?" for i in range(11)]}, "There are 11 phrasings; the limit is 10."),
        (
            {"questions": ["One?", "Two?", LONG_PHRASING]},
            "Phrasing 3 is 412 characters; the limit is 300.",
        ),
        ({"questions": ["One?", "?!"]}, "Phrasing 2 has no words to match questions against."),
        ({"answer": "   "}, "The answer is empty; write the answer in plain words."),
        ({"answer": "a" * 1501}, "The answer is 1,501 characters; the limit is 1,500."),
        ({"excerpts": []}, "Add at least one excerpt copied word for word from the source (one per line)."),
        ({"excerpts": [STAND] * 6}, "There are 6 excerpts; the limit is 5."),
        ({"excerpts": [STAND, "w" * 1001]}, "Excerpt 2 is 1,001 characters; the limit is 1,000."),
        (
            {"speaker": "s" * (MAX_SPEAKER_CHARS + 1)},
            f"The speaker is {MAX_SPEAKER_CHARS + 1} characters; the limit is {MAX_SPEAKER_CHARS}.",
        ),
    ],
)
def test_each_limit_has_a_message_stating_it(
    curation: CurationService, over: dict[str, Any], message: str
) -> None:
    assert problems_of(curation, motto_draft(**over)) == [message]


async def test_every_problem_is_reported_at_once_and_nothing_is_saved(curation: CurationService) -> None:
    draft = motto_draft(questions=["One?", LONG_PHRASING], answer="", excerpts=["Blinken ate pizza"])
    with pytest.raises(DraftInvalid) as info:
        await curation.create(GUILD, draft, MOD)
    assert len(info.value.problems) == 3
    assert info.value.draft == draft
    assert await curation.list_entries(GUILD) == []


async def test_non_verbatim_excerpt_offers_the_closest_passage(
    assistant: Assistant, curation: CurationService
) -> None:
    typo = "We stand together with Ukrain against President Putins war"
    draft = motto_draft(excerpts=[ATTENDED, typo])
    with pytest.raises(DraftInvalid) as info:
        await curation.create(GUILD, draft, MOD)
    error = info.value
    assert error.draft is draft  # what the moderator typed, to offer again
    assert error.closest[0] is None  # the first excerpt is fine
    passage = error.closest[1]
    assert passage is not None
    # The suggestion is pasteable: it stands verbatim in the source, where it says.
    assert assistant.kb.texts["article"].locate(passage.text) == passage.location == "¶5"
    assert "We stand together with Ukraine" in passage.text
    [problem] = error.problems
    assert problem.startswith("Excerpt 2 does not appear word for word")
    assert passage.text in problem and "(¶5)" in problem
    assert await curation.list_entries(GUILD) == []


async def test_excerpt_pasted_with_quote_marks_is_accepted_without_them(curation: CurationService) -> None:
    stored = await curation.create(GUILD, motto_draft(excerpts=[f"\u201c{ATTENDED}\u201d"]), MOD)
    assert stored.entry.citations[0].excerpt == ATTENDED


async def test_curated_base_is_read_only(curation: CurationService) -> None:
    with pytest.raises(ReadOnlyScope):
        await curation.create(None, motto_draft(), MOD)
    with pytest.raises(ReadOnlyScope):
        await curation.edit(None, "who-is-blinken", motto_draft(), MOD, 1)
    with pytest.raises(ReadOnlyScope):
        await curation.remove(None, "who-is-blinken", MOD)
    with pytest.raises(ReadOnlyScope):
        await curation.revert(None, "who-is-blinken", 1, MOD)
    with pytest.raises(ReadOnlyScope):
        await curation.import_yaml(None, b"entries: []\n", MOD)


# ---- ids -----------------------------------------------------------------------------------


async def test_ids_avoid_base_ids_and_existing_ids(curation: CurationService) -> None:
    assert "who-is-blinken" in curation.base_ids
    draft = motto_draft(questions=["Who is Blinken?"])
    first = await curation.create(GUILD, draft, MOD)
    second = await curation.create(GUILD, draft, MOD)
    assert (first.id, second.id) == ("who-is-blinken-2", "who-is-blinken-3")
    # A removed entry keeps its id (it can be restored), so the id stays taken.
    await curation.remove(GUILD, second.id, MOD)
    third = await curation.create(GUILD, draft, MOD)
    assert third.id == "who-is-blinken-4"
    # Ids are per server: another server starts again after the base id.
    assert (await curation.create(OTHER, draft, MOD)).id == "who-is-blinken-2"


async def test_per_server_cap(assistant: Assistant) -> None:
    small = CurationService(assistant, max_entries_per_guild=2)
    await small.create(GUILD, motto_draft(), MOD)
    await small.create(GUILD, motto_draft(), MOD)
    with pytest.raises(LimitExceeded, match="at most 2 entries"):
        await small.create(GUILD, motto_draft(), MOD)


# ---- edit, remove, revert, history -----------------------------------------------------------


async def test_edit_changes_the_answer_at_once(assistant: Assistant, curation: CurationService) -> None:
    created = await curation.create(GUILD, motto_draft(), MOD)
    draft = draft_of(created)
    assert draft == motto_draft()
    edited = await curation.edit(
        GUILD, created.id, draft.model_copy(update={"questions": ["What is our team slogan?"]}), 7, 1
    )
    assert edited.version == 2 and edited.updated_by == 7
    assert answers(assistant, "What is our team slogan?", GUILD) == created.id
    assert answers(assistant, MOTTO_Q, GUILD) is None


async def test_edit_with_a_stale_version_is_a_conflict(curation: CurationService) -> None:
    created = await curation.create(GUILD, motto_draft(), MOD)
    await curation.edit(GUILD, created.id, motto_draft(answer="Second."), MOD, 1)
    with pytest.raises(VersionConflict) as info:
        await curation.edit(GUILD, created.id, motto_draft(answer="Third."), MOD, 1)
    assert (info.value.expected, info.value.actual) == (1, 2)
    assert "version 1" in info.value.message and "version 2" in info.value.message
    current = await curation.store.get_entry(GUILD, created.id)
    assert current is not None and current.entry.answer == "Second."


async def test_edit_that_changes_nothing_writes_no_version(curation: CurationService) -> None:
    created = await curation.create(GUILD, motto_draft(), MOD)
    same = await curation.edit(GUILD, created.id, draft_of(created), MOD, 1)
    assert same.version == 1
    assert len(await curation.history(GUILD, created.id)) == 1


async def test_edit_of_a_missing_or_removed_entry(curation: CurationService) -> None:
    with pytest.raises(EntryNotFound, match="no entry 'nope'"):
        await curation.edit(GUILD, "nope", motto_draft(), MOD, 1)
    created = await curation.create(GUILD, motto_draft(), MOD)
    await curation.remove(GUILD, created.id, MOD)
    with pytest.raises(EntryNotFound, match="was removed"):
        await curation.edit(GUILD, created.id, motto_draft(), MOD, 2)


async def test_remove_stops_answering_and_history_shows_it(
    assistant: Assistant, curation: CurationService
) -> None:
    created = await curation.create(GUILD, motto_draft(), MOD)
    removed = await curation.remove(GUILD, created.id, 9, expected_version=1)
    assert removed.deleted and removed.version == 2
    assert answers(assistant, MOTTO_Q, GUILD) is None
    assert await curation.store.get_entry(GUILD, created.id) is None
    history = await curation.history(GUILD, created.id)
    assert [(v.version, v.action, v.actor_id) for v in history] == [(1, "create", MOD), (2, "remove", 9)]
    assert history[1].entry is None
    with pytest.raises(EntryNotFound):
        await curation.remove(GUILD, created.id, MOD)


async def test_revert_restores_and_answers_again(assistant: Assistant, curation: CurationService) -> None:
    created = await curation.create(GUILD, motto_draft(), MOD)
    await curation.edit(GUILD, created.id, motto_draft(answer="Changed."), MOD, 1)
    await curation.remove(GUILD, created.id, MOD)
    restored = await curation.revert(GUILD, created.id, 1, MOD)
    assert not restored.deleted and restored.version == 4
    assert restored.entry == created.entry
    assert answers(assistant, MOTTO_Q, GUILD) == created.id
    assert assistant.service.answer(MOTTO_Q, GUILD).answer == created.entry.answer
    history = await curation.history(GUILD, created.id)
    assert [v.action for v in history] == ["create", "edit", "remove", "revert"]
    assert describe_history(history) == [
        "new entry: 2 phrasings, 1 excerpt",
        "phrasings unchanged; answer changed; excerpts unchanged",
        "removed",
        "restored; phrasings unchanged; answer changed; excerpts unchanged",
    ]
    # Reverting to the removal removes it again.
    again = await curation.revert(GUILD, created.id, 3, MOD)
    assert again.deleted
    assert answers(assistant, MOTTO_Q, GUILD) is None


async def test_revert_and_history_of_unknown_ids(curation: CurationService) -> None:
    with pytest.raises(EntryNotFound):
        await curation.history(GUILD, "nope")
    with pytest.raises(EntryNotFound):
        await curation.revert(GUILD, "nope", 1, MOD)
    created = await curation.create(GUILD, motto_draft(), MOD)
    with pytest.raises(EntryNotFound, match="no version 7"):
        await curation.revert(GUILD, created.id, 7, MOD)


async def test_edit_keeps_tags_entities_and_mixed_speakers(curation: CurationService) -> None:
    doc = {
        "entries": [
            {
                "id": "two-voices",
                "questions": ["Who spoke at the news conference?"],
                "answer": "Blinken and Hayashi.",
                "citations": [
                    {"source": "article", "excerpt": STAND, "speaker": "Antony J. Blinken"},
                    {"source": "article", "excerpt": HAYASHI, "speaker": "Hayashi Yoshimasa"},
                ],
                "tags": ["people"],
                "entities": ["blinken", "hayashi"],
            }
        ]
    }
    await curation.import_yaml(GUILD, yaml.safe_dump(doc).encode(), MOD)
    stored = await curation.store.get_entry(GUILD, "two-voices")
    assert stored is not None
    draft = draft_of(stored)
    assert draft.speaker is None  # mixed speakers: the modal's one field stays empty
    edited = await curation.edit(
        GUILD, "two-voices", draft.model_copy(update={"answer": "Both."}), MOD, stored.version
    )
    assert [c.speaker for c in edited.entry.citations] == ["Antony J. Blinken", "Hayashi Yoshimasa"]
    assert edited.entry.tags == ["people"] and edited.entry.entities == ["blinken", "hayashi"]
    # A speaker typed in the modal applies to every excerpt.
    one = await curation.edit(
        GUILD, "two-voices", draft.model_copy(update={"speaker": "The ministers"}), MOD, edited.version
    )
    assert {c.speaker for c in one.entry.citations} == {"The ministers"}


# ---- listing and autocomplete ----------------------------------------------------------------


async def test_list_and_autocomplete(curation: CurationService) -> None:
    await curation.create(GUILD, motto_draft(), MOD)
    fridays = motto_draft(questions=["Where do we meet on Fridays?"], answer="In the library.")
    await curation.create(GUILD, fridays, MOD)
    assert [s.id for s in await curation.list_entries(GUILD)] == [
        "what-is-our-club-motto",
        "where-do-we-meet-on-fridays",
    ]
    assert [s.id for s in await curation.list_entries(GUILD, "FRIDAYS")] == ["where-do-we-meet-on-fridays"]
    # Fuzzy: a typo still finds the entry.
    assert [s.id for s in await curation.list_entries(GUILD, "club mottoo")] == ["what-is-our-club-motto"]
    assert await curation.list_entries(GUILD, "zebra crossing") == []
    assert await curation.list_entries(OTHER) == []
    choices = await curation.entry_ids_for_autocomplete(GUILD, "motto")
    assert choices == [("what-is-our-club-motto", "what-is-our-club-motto \u2014 What is our club motto?")]
    assert len(await curation.entry_ids_for_autocomplete(GUILD, "", limit=1)) == 1


async def test_autocomplete_follows_every_change_here_and_elsewhere(
    assistant: Assistant, curation: CurationService, tmp_path: Path
) -> None:
    """Autocomplete keeps each server's entries prepared between keystrokes: every change, by
    this process or another, is seen at the next search."""
    created = await curation.create(GUILD, motto_draft(), MOD)
    assert await curation.entry_ids_for_autocomplete(GUILD, "motto") == [
        (created.id, f"{created.id} \u2014 {MOTTO_Q}")
    ]
    await curation.edit(
        GUILD, created.id, motto_draft(questions=["Our club motto now?"]), MOD, created.version
    )
    assert await curation.entry_ids_for_autocomplete(GUILD, "motto") == [
        (created.id, f"{created.id} \u2014 Our club motto now?")
    ]
    elsewhere = Entry(
        id="another-motto",
        questions=["The other club motto?"],
        answer="Unity.",
        citations=[Citation(source="article", excerpt=STAND)],
    )
    async with await Store.open(tmp_path / "db.sqlite3") as other_process:
        await other_process.create_entry(GUILD, elsewhere, MOD)
    assert [i for i, _ in await curation.entry_ids_for_autocomplete(GUILD, "motto")] == [
        "another-motto",
        created.id,
    ]
    await curation.remove(GUILD, "another-motto", MOD, 1)
    assert [i for i, _ in await curation.entry_ids_for_autocomplete(GUILD, "motto")] == [created.id]
    assert await curation.entry_ids_for_autocomplete(OTHER, "motto") == []


async def test_removed_entries_are_offered_only_where_history_and_revert_need_them(
    curation: CurationService,
) -> None:
    created = await curation.create(GUILD, motto_draft(), MOD)
    await curation.remove(GUILD, created.id, MOD, created.version)
    assert await curation.entry_ids_for_autocomplete(GUILD, "motto") == []
    [(entry_id, label)] = await curation.entry_ids_for_autocomplete(GUILD, "motto", include_removed=True)
    assert entry_id == created.id and "(removed)" in label


# ---- export / import -----------------------------------------------------------------------


async def test_export_then_import_into_another_server_reproduces_the_entries(
    assistant: Assistant, curation: CurationService
) -> None:
    await curation.create(GUILD, motto_draft(), MOD)
    await curation.create(GUILD, motto_draft(questions=["Who is Blinken?"], speaker=None), MOD)
    exported = (await curation.export(GUILD)).text
    assert exported == (await curation.export(GUILD)).text  # deterministic
    assert "location" not in exported and "speaker: null" not in exported

    report = await curation.import_yaml(OTHER, exported.encode("utf-8"), MOD)
    assert (report.added, report.updated, report.unchanged) == (2, 0, 0)

    def content(entries: list[StoredEntry]) -> list[tuple[Any, ...]]:
        return [(s.id, s.entry.questions, s.entry.answer, s.entry.citations) for s in entries]

    assert content(await curation.list_entries(OTHER)) == content(await curation.list_entries(GUILD))
    assert answers(assistant, MOTTO_Q, OTHER) == "what-is-our-club-motto"
    assert (await curation.export(OTHER)).text == exported
    history = await curation.history(OTHER, "what-is-our-club-motto")
    assert [(v.action, v.actor_id) for v in history] == [("import", MOD)]
    # Importing the same file again changes nothing.
    again = await curation.import_yaml(OTHER, exported.encode("utf-8"), MOD)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


async def test_import_updates_existing_entries(assistant: Assistant, curation: CurationService) -> None:
    created = await curation.create(GUILD, motto_draft(), MOD)
    doc = yaml.safe_load((await curation.export(GUILD)).text)
    doc["entries"][0]["questions"] = ["What is our team slogan?"]
    report = await curation.import_yaml(GUILD, yaml.safe_dump(doc).encode(), MOD)
    assert (report.added, report.updated) == (0, 1)
    assert answers(assistant, "What is our team slogan?", GUILD) == created.id
    current = await curation.store.get_entry(GUILD, created.id)
    assert current is not None and current.version == 2


async def test_a_bulk_import_freezes_the_new_index_out_of_full_collections(
    assistant: Assistant, curation: CurationService
) -> None:
    created = await curation.create(GUILD, motto_draft(), MOD)
    exported = (await curation.export(GUILD)).text
    gc.unfreeze()  # whatever start-up froze is back under the collector
    try:
        assert gc.get_freeze_count() == 0
        await curation.import_yaml(OTHER, exported.encode("utf-8"), MOD)
        assert gc.get_freeze_count() > 0
        assert assistant.service.document(OTHER, created.id) is not None
    finally:
        gc.unfreeze()


def _entry_doc(entry_id: str = "club-rules", **over: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": entry_id,
        "questions": ["What are the club rules?"],
        "answer": "Be kind.",
        "citations": [{"source": "article", "excerpt": ATTENDED}],
    }
    doc.update(over)
    return doc


def _dump(*entries: dict[str, Any]) -> bytes:
    return yaml.safe_dump({"entries": list(entries)}).encode()


ALIAS_BOMB = (
    b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    b"b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    b"entries: [*c]\n"
)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(b"entries: [\n  - id: x\n", "not valid YAML", id="bad-yaml"),
        pytest.param(ALIAS_BOMB, "aliases", id="alias-bomb"),
        pytest.param(b"- just\n- a list\n", "list under 'entries:'", id="not-a-mapping"),
        pytest.param(_dump(_entry_doc(questions="What?")), "entry 'club-rules': questions", id="wrong-type"),
        pytest.param(_dump(_entry_doc(answer=["a"])), "entry 'club-rules': answer", id="wrong-type-answer"),
        pytest.param(_dump(_entry_doc(), _entry_doc()), "listed 2 times", id="duplicate-ids"),
        pytest.param(
            _dump(_entry_doc(citations=[{"source": "article", "excerpt": "Blinken ate pizza"}])),
            "entry 'club-rules': excerpt is not verbatim in source 'article'",
            id="not-verbatim",
        ),
        pytest.param(
            _dump(_entry_doc(citations=[{"source": "blog", "excerpt": ATTENDED}])),
            "unknown source id 'blog'",
            id="unknown-source",
        ),
        pytest.param(
            _dump(_entry_doc(entities=["olaf"])), "1 unknown entity id: 'olaf'", id="unknown-entity"
        ),
        pytest.param(_dump(_entry_doc("who-is-blinken")), "used by the curated knowledge base", id="base-id"),
        pytest.param(_dump(_entry_doc("Bad Id!")), "String should match pattern", id="bad-id"),
        pytest.param(
            _dump(_entry_doc(questions=[f"Q{i}?" for i in range(11)])),
            "entry 'club-rules': There are 11 phrasings; the limit is 10.",
            id="too-many-phrasings",
        ),
        pytest.param(
            b"entries: []\n# " + b"x" * MAX_IMPORT_BYTES,
            f"the limit is {MAX_IMPORT_BYTES:,} bytes",
            id="too-big",
        ),
        pytest.param(
            _dump(_entry_doc()).replace(b"Be kind.", "Caf\u00e9.".encode("latin-1")),
            "not UTF-8",
            id="latin-1",
        ),
    ],
)
async def test_broken_import_changes_nothing(curation: CurationService, data: bytes, expected: str) -> None:
    await curation.create(GUILD, motto_draft(), MOD)
    before = await snapshot(curation, GUILD)
    # A valid entry in the same file is not imported either: all or nothing.
    head = b"entries:\n"
    if data.startswith(head):
        data = head + _dump(_entry_doc("fine-entry"))[len(head) :] + data[len(head) :]
    with pytest.raises(ImportInvalid) as info:
        await curation.import_yaml(GUILD, data, MOD)
    assert any(expected in p for p in info.value.problems), info.value.problems
    assert await snapshot(curation, GUILD) == before
    assert await curation.store.get_entry(GUILD, "club-rules") is None
    assert await curation.store.get_entry(GUILD, "fine-entry") is None


async def test_import_reports_every_problem(curation: CurationService) -> None:
    data = _dump(
        _entry_doc("a-entry", entities=["nobody"]),
        _entry_doc("b-entry", citations=[{"source": "article", "excerpt": "not in the article"}]),
        _entry_doc("c-entry", answer=""),
    )
    with pytest.raises(ImportInvalid) as info:
        await curation.import_yaml(GUILD, data, MOD)
    text = "\n".join(info.value.problems)
    assert "entry 'a-entry'" in text and "entry 'b-entry'" in text and "entry 'c-entry'" in text


async def test_import_respects_the_server_cap(assistant: Assistant) -> None:
    small = CurationService(assistant, max_entries_per_guild=2)
    await small.create(GUILD, motto_draft(), MOD)
    data = _dump(_entry_doc("one"), _entry_doc("two"))
    with pytest.raises(ImportInvalid, match="would give this server 3 entries; the limit is 2"):
        await small.import_yaml(GUILD, data, MOD)
    assert await small.store.count_entries(GUILD) == 1


async def test_import_restores_a_removed_id(assistant: Assistant, curation: CurationService) -> None:
    created = await curation.create(GUILD, motto_draft(), MOD)
    exported = (await curation.export(GUILD)).text
    await curation.remove(GUILD, created.id, MOD)
    report = await curation.import_yaml(GUILD, exported.encode(), MOD)
    assert report.added == 1
    assert answers(assistant, MOTTO_Q, GUILD) == created.id


async def test_import_of_an_empty_list_is_a_no_op(curation: CurationService) -> None:
    report = await curation.import_yaml(GUILD, b"entries: []\n", MOD)
    assert (report.added, report.updated, report.unchanged) == (0, 0, 0)


async def test_create_id_collision_with_concurrent_writer_retries(
    curation: CurationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulate another moderator taking the id between the free-id check and the write.
    real = curation.store.create_entry
    calls = 0

    async def racing(scope: int, entry: Entry, actor: int, **kw: Any) -> StoredEntry:
        nonlocal calls
        calls += 1
        if calls == 1:
            await real(scope, entry, actor, **kw)
            raise EntryExists(entry.id)
        return await real(scope, entry, actor, **kw)

    monkeypatch.setattr(curation.store, "create_entry", racing)
    stored = await curation.create(GUILD, motto_draft(), MOD)
    assert stored.id == "what-is-our-club-motto-2"


# ---- gaps and stats ------------------------------------------------------------------------


async def test_gaps_group_similar_questions_biggest_first(
    assistant: Assistant, curation: CurationService
) -> None:
    asked = ["who is scholz", "who is scholz", "Who is Scholz?", "who is olaf scholz", "pizza"]
    for question in asked:
        await assistant.store.log_question(GUILD, 1, 2, question, False, None, 0.1)
    await assistant.store.log_question(GUILD, 1, 2, "Who is Blinken?", True, "who-is-blinken", 0.9)
    await assistant.store.log_question(OTHER, 1, 2, "pizza", False, None, 0.1)
    gaps = await curation.gaps(GUILD, None)
    assert [(g.question, g.count) for g in gaps] == [("who is scholz", 4), ("pizza", 1)]
    assert sorted(gaps[0].variants) == ["Who is Scholz?", "who is olaf scholz", "who is scholz"]
    assert await curation.gaps(GUILD, 7) == gaps
    assert [g.question for g in await curation.gaps(GUILD, None, limit=1)] == ["who is scholz"]


def test_group_questions_needs_a_shared_topic_word() -> None:
    now = datetime(2023, 1, 12, tzinfo=UTC)
    rows = [("who is scholz", 3, now), ("who", 1, now - timedelta(hours=1)), ("???", 2, now)]
    assert group_questions(rows) == [
        Gap("who is scholz", 3, ["who is scholz"], now),
        Gap("who", 1, ["who"], now - timedelta(hours=1)),
    ]


async def test_stats_answered_rate(assistant: Assistant, curation: CurationService) -> None:
    empty = await curation.stats(GUILD, 30)
    assert empty.answered_rate is None and empty.stats.asked == 0
    await assistant.ask("Who is Blinken?", GUILD)
    await assistant.ask("best pizza topping", GUILD)
    stats = await curation.stats(GUILD, None)
    assert (stats.stats.asked, stats.stats.answered, stats.answered_rate) == (2, 1, 0.5)
    assert stats.stats.top_entries == [("who-is-blinken", 1)]
    with pytest.raises(ValueError, match="at least 1"):
        await curation.stats(GUILD, 0)


# ---- describe_change ----------------------------------------------------------------------


def _entry(questions: list[str], answer: str = "A.", excerpts: tuple[str, ...] = (STAND,)) -> Entry:
    return Entry(
        id="e",
        questions=questions,
        answer=answer,
        citations=[Citation(source="article", excerpt=e) for e in excerpts],
    )


@pytest.mark.parametrize(
    ("before", "after", "summary"),
    [
        (None, _entry(["A?"]), "new entry: 1 phrasing, 1 excerpt"),
        (_entry(["A?"]), None, "removed"),
        (_entry(["A?"]), _entry(["A?"]), "no changes"),
        (
            _entry(["A?", "B?"]),
            _entry(["A?", "C?", "D?"], answer="B."),
            "phrasings +2 \u22121; answer changed; excerpts unchanged",
        ),
        (
            _entry(["A?", "B?"]),
            _entry(["B?", "A?"], excerpts=(STAND, HAYASHI)),
            "phrasings reordered; answer unchanged; excerpts +1",
        ),
        (
            _entry(["A?"], excerpts=(STAND, HAYASHI)),
            _entry(["A?"]),
            "phrasings unchanged; answer unchanged; excerpts \u22121",
        ),
        (
            _entry(["A?"]),
            _entry(["A?"]).model_copy(update={"tags": ["x"], "entities": ["blinken"]}),
            "phrasings unchanged; answer unchanged; excerpts unchanged; "
            "tags changed; linked entities changed",
        ),
    ],
)
def test_describe_change(before: Entry | None, after: Entry | None, summary: str) -> None:
    assert describe_change(before, after) == summary


def test_describe_change_notes_a_speaker_change() -> None:
    before = _entry(["A?"])
    after = before.model_copy(
        update={"citations": [c.model_copy(update={"speaker": "Blinken"}) for c in before.citations]}
    )
    assert describe_change(before, after).endswith("; speaker changed")


# ---- an excerpt must prove something; lists are bounded ---------------------------------------


@pytest.mark.parametrize("excerpt", ["e", ",", "Blinken", "ttended by U.S. Secretary"])
def test_a_draft_excerpt_must_be_a_few_whole_words(curation: CurationService, excerpt: str) -> None:
    [problem] = problems_of(curation, motto_draft(excerpts=[excerpt]))
    assert problem.startswith("Excerpt 1 ")
    assert "whole words" in problem


async def test_an_import_with_20000_tags_is_refused_and_stores_nothing(curation: CurationService) -> None:
    doc = {
        "id": "tagged",
        "questions": [MOTTO_Q],
        "answer": "Unity.",
        "citations": [{"source": "article", "excerpt": STAND}],
        "tags": [f"t{n}" for n in range(20_000)],
    }
    data = yaml.safe_dump({"entries": [doc]}, default_flow_style=None, width=10**6).encode("utf-8")
    assert len(data) < MAX_IMPORT_BYTES
    with pytest.raises(ImportInvalid) as info:
        await curation.import_yaml(GUILD, data, MOD)
    assert any("20,000 tags; the limit is" in p for p in info.value.problems)
    assert await snapshot(curation, GUILD) == []


async def test_an_import_with_a_one_character_excerpt_is_refused(curation: CurationService) -> None:
    doc = {
        "id": "short",
        "questions": [MOTTO_Q],
        "answer": "Unity.",
        "citations": [{"source": "article", "excerpt": "e"}],
    }
    with pytest.raises(ImportInvalid) as info:
        await curation.import_yaml(GUILD, yaml.safe_dump({"entries": [doc]}).encode(), MOD)
    assert any("at least 3 whole words" in p for p in info.value.problems)
