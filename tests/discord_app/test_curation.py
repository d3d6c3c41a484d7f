"""End to end: /qa over the fake Discord, asserting on what Discord receives.

Every flow goes through the real discord.py client: slash commands, modals (type 9 callback,
then the submission), buttons, autocomplete and attachments. Store-level versioning and revert
are covered in tests/core/test_store.py and tests/core/test_curation.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from bot.core.curation import draft_text
from bot.core.limits import MAX_IMPORT_BYTES
from bot.core.models import EntryDraft
from bot.core.permissions import REFUSAL
from bot.core.text import normalize_verbatim
from bot.discord_app import render
from bot.discord_app.checks import NOT_IN_SERVER
from bot.discord_app.errors import missing_permissions_text
from tests.conftest import ARTICLE
from tests.discord_app.conftest import Live, make_settings, start_live
from tests.discord_app.qa_helpers import (
    MEMBER,
    MOD_ID,
    OTHER_MOD,
    QA_SUBCOMMANDS,
    ask,
    attachment_option,
    buttons,
    click,
    embed_of,
    file_host,
    fill,
    followup,
    import_file,
    is_ephemeral,
    modal_fields,
    modal_values,
    open_modal,
    qa,
    qa_autocomplete,
    respond,
    role_option,
    submit,
)
from tests.fakediscord import (
    CHANNEL_ID,
    DEFAULT_EVERYONE_PERMISSIONS,
    DM_CHANNEL_ID,
    GUILD_ID,
    paths,
    payloads,
)

#: What a member without Manage Server is told by /qa config (discord.py's has_permissions).
MANAGE_SERVER_ONLY = missing_permissions_text(["manage_guild"], "/qa config")
pytestmark = pytest.mark.e2e

ARTICLE_TEXT = normalize_verbatim(ARTICLE.read_text(encoding="utf-8"))

GUILD_B = GUILD_ID + 1
CHANNEL_B = CHANNEL_ID + 1000
MOD_ROLE = payloads.role(GUILD_ID + 77, "Q&A moderators", position=2)
OTHER_MOD_ID = int(OTHER_MOD["id"])
PLAIN = {"user": MEMBER, "permissions": DEFAULT_EVERYONE_PERMISSIONS}

#: Verbatim in the article (typographic apostrophe as published).
STAND = "We stand together with Ukraine against President Putin\u2019s war"
ATTENDED = "attended by U.S. Secretary of State Antony J. Blinken"
MOTTO_Q = "What is our club motto?"
MOTTO_A = "Our motto is Blinken's line about standing with Ukraine."


def two_guilds() -> list[dict[str, Any]]:
    bot = payloads.bot_user()
    return [
        payloads.guild(GUILD_ID, bot=bot, roles=[MOD_ROLE]),
        payloads.guild(
            GUILD_B,
            name="Other Guild",
            bot=bot,
            channels=[payloads.text_channel(CHANNEL_B, guild_id=GUILD_B)],
        ),
    ]


@pytest_asyncio.fixture
async def live(tmp_path: Path) -> AsyncIterator[Live]:
    async with start_live(make_settings(tmp_path), guilds=two_guilds()) as running:
        yield running


def motto(**over: Any) -> EntryDraft:
    fields: dict[str, Any] = {
        "questions": [MOTTO_Q, "club motto"],
        "answer": MOTTO_A,
        "excerpts": [STAND],
        "speaker": "Antony J. Blinken",
    }
    fields.update(over)
    return EntryDraft(**fields)


async def seed(live: Live, draft: EntryDraft | None = None, guild: int = GUILD_ID) -> str:
    stored = await live.bot.curation.create(guild, draft or motto(), MOD_ID)
    return stored.id


async def answer_text(
    live: Live, question: str, *, channel_id: int, guild_id: int | None = GUILD_ID
) -> str | None:
    """The answer /ask gives (its embed description), or None when it abstains."""
    body = await respond(live, ask(question, channel_id=channel_id, guild_id=guild_id))
    embed = embed_of(body)
    if "don't know" in embed["title"]:
        return None
    return str(embed["description"])


# --------------------------------------------------------------------------------------------
# Registration.
# --------------------------------------------------------------------------------------------


async def test_qa_is_a_guild_only_group_for_manage_server(live: Live) -> None:
    [put] = live.fake.find_requests("PUT", paths.guild_commands(GUILD_ID))[:1]
    qa_cmd = next(c for c in put.json if c["name"] == "qa")
    assert str(qa_cmd["default_member_permissions"]) == "8192"  # Manage Messages
    assert qa_cmd["dm_permission"] is False
    assert qa_cmd["contexts"] == [0]
    subs = {o["name"]: o for o in qa_cmd["options"]}
    assert set(subs) == set(QA_SUBCOMMANDS)
    assert all(o["type"] == 1 for o in subs.values())
    entry_id = next(o for o in subs["edit"]["options"] if o["name"] == "id")
    assert entry_id["autocomplete"] is True and entry_id["required"] is True
    [file_opt] = subs["import"]["options"]
    assert file_opt["type"] == 11


# --------------------------------------------------------------------------------------------
# Add and edit: the modal round trip.
# --------------------------------------------------------------------------------------------


async def test_add_opens_a_modal_and_the_entry_answers_at_once(live: Live) -> None:
    modal = await open_modal(live, qa("add"))
    assert len(modal["title"]) <= render.MAX_MODAL_TITLE
    fields = modal_fields(modal)
    assert list(fields) == ["questions", "answer", "excerpts", "speaker"]
    assert len(fields) <= render.MAX_MODAL_INPUTS
    assert all(len(f["label"]) <= render.MAX_TEXT_INPUT_LABEL for f in fields.values())
    assert all(len(f.get("placeholder") or "") <= render.MAX_TEXT_INPUT_PLACEHOLDER for f in fields.values())
    assert fields["answer"]["max_length"] == 1500 and fields["speaker"]["required"] is False

    before = await answer_text(live, MOTTO_Q, channel_id=CHANNEL_ID + 1)
    assert before is None

    values = fill([MOTTO_Q, "club motto"], MOTTO_A, [STAND], "Antony J. Blinken")
    body = await respond(live, submit(modal, values))
    assert body["type"] == 4 and is_ephemeral(body)
    assert "`what-is-our-club-motto`" in body["data"]["content"]
    preview = embed_of(body)
    assert MOTTO_A in preview["description"]
    assert any("\u00b6" in f["name"] and "Putin" in f["value"] for f in preview["fields"])
    assert "what-is-our-club-motto" in preview["footer"]["text"]
    assert body["data"]["allowed_mentions"]["parse"] == []

    after = await answer_text(live, "what's our club motto?", channel_id=CHANNEL_ID + 2)
    assert after is not None and "motto" in after
    [version] = await live.assistant.store.history(GUILD_ID, "what-is-our-club-motto")
    assert (version.version, version.action, version.actor_id) == (1, "create", MOD_ID)


async def test_a_non_verbatim_excerpt_shows_the_closest_passage_and_keeps_the_draft(live: Live) -> None:
    modal = await open_modal(live, qa("add"))
    wrong = "We stand with Ukraine against Putin's war"
    typed = fill([MOTTO_Q], MOTTO_A, [wrong, ATTENDED], "Blinken")
    body = await respond(live, submit(modal, typed))
    assert is_ephemeral(body)
    assert "Nothing was saved" in body["data"]["content"]
    embed = embed_of(body)
    assert "Excerpt 1 does not appear word for word" in embed["description"]
    [closest] = embed["fields"]
    assert closest["name"].startswith("Closest passage to excerpt 1 (\u00b6")
    # The passage as it stands in the article (whole words around the best alignment).
    shown = closest["value"].replace("\\", "")
    assert "We stand together with Ukraine against President" in shown
    assert normalize_verbatim(shown) in ARTICLE_TEXT
    assert await live.assistant.store.count_entries(GUILD_ID) == 0

    # "Edit and retry" reopens the form with exactly what was typed.
    reopened = await open_modal(live, click(body["message"], "Edit and retry"))
    assert modal_values(reopened) == typed
    fixed = {**typed, "excerpts": f"{STAND}\n{ATTENDED}"}
    saved = await respond(live, submit(reopened, fixed))
    assert "Added `what-is-our-club-motto`" in saved["data"]["content"]
    assert await live.assistant.store.count_entries(GUILD_ID) == 1


async def test_limits_are_refused_with_a_message_stating_each_limit(live: Live) -> None:
    modal = await open_modal(live, qa("add"))
    questions = [f"Question number {n} about the club?" for n in range(11)] + ["x" * 301]
    body = await respond(live, submit(modal, fill(questions, "a" * 1501, [STAND] * 6)))
    description = embed_of(body)["description"]
    assert "the limit is 10" in description  # phrasings
    assert "the limit is 300" in description  # phrasing length
    assert "the limit is 1,500" in description  # answer
    assert "the limit is 5" in description  # excerpts
    assert await live.assistant.store.count_entries(GUILD_ID) == 0


async def test_a_full_server_is_refused_with_the_limit_and_the_typing_is_kept(tmp_path: Path) -> None:
    async with start_live(make_settings(tmp_path, max_entries_per_guild=1), guilds=two_guilds()) as live:
        modal = await open_modal(live, qa("add"))  # opened while there was room
        await seed(live)
        typed = fill(["When does the club meet?"], "On Wednesdays.", [STAND])
        body = await respond(live, submit(modal, typed))
        assert is_ephemeral(body) and "at most 1 entry;" in body["data"]["content"]
        reopened = await open_modal(live, click(body["message"], "Reopen with my text"))
        assert modal_values(reopened) == typed

        full = await respond(live, qa("add"))
        assert full["type"] == 4 and is_ephemeral(full)
        assert "the limit is 1" in full["data"]["content"]


async def test_edit_opens_the_same_modal_filled_in_and_saves_a_version(live: Live) -> None:
    entry_id = await seed(live)
    modal = await open_modal(live, qa("edit", [payloads.option("id", entry_id)]))
    assert entry_id in modal["title"]
    assert tuple(modal_values(modal).values()) == draft_text(motto())

    values = {**modal_values(modal), "answer": "Our motto: we stand together with Ukraine."}
    body = await respond(live, submit(modal, values))
    assert "version 2" in body["data"]["content"]
    stored = await live.assistant.store.get_entry(GUILD_ID, entry_id)
    assert stored is not None and stored.version == 2 and stored.entry.answer.startswith("Our motto:")
    assert "Our motto:" in (await answer_text(live, MOTTO_Q, channel_id=CHANNEL_ID + 3) or "")


async def test_a_concurrent_edit_is_refused_and_nothing_is_overwritten(live: Live) -> None:
    entry_id = await seed(live)
    first = await open_modal(live, qa("edit", [payloads.option("id", entry_id)]))
    second = await open_modal(live, qa("edit", [payloads.option("id", entry_id)], user=OTHER_MOD))
    assert first["custom_id"] != second["custom_id"]

    mine = {**modal_values(first), "answer": "First moderator's answer."}
    theirs = {**modal_values(second), "answer": "Second moderator's answer."}
    ok = await respond(live, submit(first, mine))
    assert "version 2" in ok["data"]["content"]
    clash = await respond(live, submit(second, theirs, user=OTHER_MOD))
    assert is_ephemeral(clash)
    content = clash["data"]["content"]
    assert "Someone else changed entry" in content and "Nothing was overwritten" in content
    assert "/qa edit" in content
    stored = await live.assistant.store.get_entry(GUILD_ID, entry_id)
    assert stored is not None and stored.version == 2 and stored.entry.answer == "First moderator's answer."

    # The second moderator's text is not lost: the form reopens with it.
    reopened = await open_modal(live, click(clash["message"], "Reopen with my text", user=OTHER_MOD))
    assert modal_values(reopened)["answer"] == "Second moderator's answer."


# --------------------------------------------------------------------------------------------
# Remove, history, revert.
# --------------------------------------------------------------------------------------------


async def test_remove_asks_for_confirmation_then_removes_softly(live: Live) -> None:
    entry_id = await seed(live)
    body = await respond(live, qa("remove", [payloads.option("id", entry_id)]))
    assert is_ephemeral(body)
    assert [b["label"] for b in buttons(body["message"])] == ["Remove", "Cancel"]

    # Only the moderator who asked may confirm.
    stranger = await respond(live, click(body["message"], "Remove", user=OTHER_MOD))
    assert is_ephemeral(stranger) and "belong to the moderator" in stranger["data"]["content"]
    cancelled = await respond(live, click(body["message"], "Cancel"))
    assert cancelled["type"] == 7 and "was not removed" in cancelled["data"]["content"]
    assert cancelled["data"]["components"] == []
    assert await live.assistant.store.get_entry(GUILD_ID, entry_id) is not None

    body = await respond(live, qa("remove", [payloads.option("id", entry_id)]))
    removed = await respond(live, click(body["message"], "Remove"))
    assert removed["type"] == 7 and "Removed `what-is-our-club-motto`" in removed["data"]["content"]
    assert await live.assistant.store.get_entry(GUILD_ID, entry_id) is None
    kept = await live.assistant.store.get_entry(GUILD_ID, entry_id, include_deleted=True)
    assert kept is not None and kept.deleted and kept.version == 2
    assert await answer_text(live, MOTTO_Q, channel_id=CHANNEL_ID + 4) is None


async def test_history_lists_versions_and_revert_restores_one(live: Live) -> None:
    entry_id = await seed(live)
    stored = await live.assistant.store.get_entry(GUILD_ID, entry_id)
    assert stored is not None
    await live.bot.curation.edit(GUILD_ID, entry_id, motto(answer="Version two answer."), OTHER_MOD_ID, 1)
    await live.bot.curation.remove(GUILD_ID, entry_id, MOD_ID)

    body = await respond(live, qa("history", [payloads.option("id", entry_id)]))
    assert is_ephemeral(body)
    embed = embed_of(body)
    description = embed["description"]
    # Newest first: who, when and what changed.
    assert description.index("**v3**") < description.index("**v2**") < description.index("**v1**")
    assert f"<@{MOD_ID}>" in description and f"<@{OTHER_MOD_ID}>" in description
    assert "<t:" in description
    assert "added: new entry: 2 phrasings, 1 excerpt" in description
    assert "edited: phrasings unchanged; answer changed; excerpts unchanged" in description
    assert "removed" in description
    assert "version 3 (removed)" in embed["footer"]["text"]

    # The version option autocompletes this entry's versions, newest first.
    choices = await respond(
        live,
        qa_autocomplete(
            "revert", [payloads.option("id", entry_id), payloads.option("version", "", type=4, focused=True)]
        ),
    )
    assert [c["value"] for c in choices["data"]["choices"]] == [3, 2, 1]

    reverted = await respond(
        live, qa("revert", [payloads.option("id", entry_id), payloads.option("version", 2)])
    )
    assert is_ephemeral(reverted)
    assert "version 2 again (now version 4)" in reverted["data"]["content"]
    assert "Version two answer." in embed_of(reverted)["description"]
    assert "Version two answer." in (await answer_text(live, MOTTO_Q, channel_id=CHANNEL_ID + 5) or "")
    versions = await live.assistant.store.history(GUILD_ID, entry_id)
    assert [(v.version, v.action, v.actor_id) for v in versions][-1] == (4, "revert", MOD_ID)


# --------------------------------------------------------------------------------------------
# List, export, import.
# --------------------------------------------------------------------------------------------


async def test_list_pages_through_the_servers_entries(live: Live) -> None:
    for n in range(23):
        await seed(live, motto(questions=[f"What is club rule {n:02d}?"]))
    body = await respond(live, qa("list"))
    assert is_ephemeral(body)
    embed = embed_of(body)
    assert embed["footer"]["text"] == "Page 1/3 \u00b7 23 entries"
    assert embed["description"].count("\n") == 9
    assert "what-is-club-rule-00" in embed["description"]
    message = body["message"]
    assert [(b["label"], b.get("disabled", False)) for b in buttons(message)] == [
        ("Previous", True),
        ("Next", False),
    ]

    page = await respond(live, click(message, "Next"))
    assert page["type"] == 7
    assert page["data"]["embeds"][0]["footer"]["text"] == "Page 2/3 \u00b7 23 entries"
    assert "what-is-club-rule-10" in page["data"]["embeds"][0]["description"]
    page = await respond(live, click(page["message"], "Next"))
    last = page["data"]["embeds"][0]
    assert last["footer"]["text"].startswith("Page 3/3") and last["description"].count("\n") == 2
    assert [b.get("disabled", False) for b in buttons(page["data"])] == [False, True]
    page = await respond(live, click(page["message"], "Previous"))
    assert page["data"]["embeds"][0]["footer"]["text"].startswith("Page 2/3")

    stranger = await respond(live, click(page["message"], "Next", user=OTHER_MOD))
    assert stranger["type"] == 4 and is_ephemeral(stranger)

    query = await respond(live, qa("list", [payloads.option("query", "rule 07")]))
    assert embed_of(query)["description"].startswith("`what-is-club-rule-07`")


async def test_export_then_import_into_another_server_reproduces_the_entries(live: Live) -> None:
    await seed(live)
    await seed(live, motto(questions=["Who attended our club meeting?"], excerpts=[ATTENDED], speaker=None))
    listed = await respond(live, qa("list"))
    assert embed_of(listed)["footer"]["text"] == "Page 1/1 \u00b7 2 entries"
    assert not buttons(listed["data"])  # one page: no pager
    body = await respond(live, qa("export"))
    assert is_ephemeral(body)
    [(filename, exported)] = body["files"].items()
    assert filename == f"qa-{GUILD_ID}.yaml"
    assert "2 entries" in body["data"]["content"]
    data = yaml.safe_load(exported)
    assert [e["id"] for e in data["entries"]] == ["what-is-our-club-motto", "who-attended-our-club-meeting"]
    assert set(data["entries"][0]) == {"id", "questions", "answer", "citations", "tags", "entities"}

    assert await answer_text(live, MOTTO_Q, channel_id=CHANNEL_B, guild_id=GUILD_B) is None
    async with file_host() as host:
        interaction = import_file(host, exported, guild_id=GUILD_B, channel_id=CHANNEL_B)
        deferred = await respond(live, interaction)
        assert deferred["type"] == 5 and is_ephemeral(deferred)
        report = await followup(live, interaction)
        assert "2 added, 0 updated, 0 unchanged" in report["content"]
        assert host.downloads == ["qa.yaml"]

    again = await respond(live, qa("export", guild_id=GUILD_B, channel_id=CHANNEL_B))
    assert list(again["files"].values()) == [exported]
    answer = await answer_text(live, MOTTO_Q, channel_id=CHANNEL_B + 1, guild_id=GUILD_B)
    assert answer is not None and "motto" in answer
    versions = await live.assistant.store.history(GUILD_B, "what-is-our-club-motto")
    assert [(v.action, v.actor_id) for v in versions] == [("import", MOD_ID)]


async def test_a_broken_import_changes_nothing_and_lists_every_problem(live: Live) -> None:
    entry_id = await seed(live)
    before = await live.bot.curation.export(GUILD_ID)
    broken = {
        "entries": [
            {
                "id": "good-one",
                "questions": ["Who went?"],
                "answer": "Four ministers.",
                "citations": [{"source": "article", "excerpt": ATTENDED}],
            },
            {
                "id": entry_id,
                "questions": ["Changed?"],
                "answer": "Changed.",
                "citations": [{"source": "article", "excerpt": "Blinken danced all night"}],
            },
            {
                "id": "no-answer",
                "questions": ["Empty?"],
                "citations": [{"source": "article", "excerpt": STAND}],
            },
        ]
    }
    async with file_host() as host:
        interaction = import_file(host, yaml.safe_dump(broken).encode())
        await respond(live, interaction)
        report = (await followup(live, interaction))["content"]
        assert "Nothing was imported" in report
        assert "entry 'what-is-our-club-motto': excerpt is not verbatim" in report
        assert "entry 'no-answer': answer: Field required" in report
        assert await live.bot.curation.export(GUILD_ID) == before
        assert len(await live.assistant.store.history(GUILD_ID, entry_id)) == 1
        assert await live.assistant.store.get_entry(GUILD_ID, "good-one") is None

        not_yaml = import_file(host, b"entries: [unclosed", filename="bad.yaml")
        await respond(live, not_yaml)
        assert "not valid YAML" in (await followup(live, not_yaml))["content"]

        # Many problems: as many as fit in one message, and how many more there are.
        many = {
            "entries": [
                {
                    "id": f"e{n}",
                    "questions": [f"Q{n}?"],
                    "answer": "A.",
                    "citations": [{"source": "nowhere", "excerpt": "x"}],
                }
                for n in range(60)
            ]
        }
        crowded = import_file(host, yaml.safe_dump(many).encode(), filename="many.yaml")
        await respond(live, crowded)
        text = (await followup(live, crowded))["content"]
        assert len(text) <= 2000 and "more problems not shown" in text
        assert "the file has 60 problems" in text

        aliases = import_file(host, b"a: &x [1]\nentries: *x\n", filename="alias.yaml")
        await respond(live, aliases)
        assert "aliases" in (await followup(live, aliases))["content"]

        # Over the size cap: refused from the attachment's size, before any download.
        downloads = len(host.downloads)
        huge = import_file(host, b"entries: []\n", filename="huge.yaml", size=MAX_IMPORT_BYTES + 1)
        body = await respond(live, huge)
        assert body["type"] == 4 and is_ephemeral(body)
        assert f"the limit is {MAX_IMPORT_BYTES:,} bytes" in body["data"]["content"]
        assert len(host.downloads) == downloads
    assert await live.assistant.store.count_entries(GUILD_ID) == 1


# --------------------------------------------------------------------------------------------
# Gaps and stats.
# --------------------------------------------------------------------------------------------


async def test_gaps_group_unanswered_questions_and_a_button_prefills_add(live: Live) -> None:
    asked = [
        "What is the best pizza topping?",
        "what is the best pizza topping",
        "Which pizza topping is the best?",
        "Who attended the meeting?",  # answered: not a gap
        "Where is the club's summer picnic?",
    ]
    for n, question in enumerate(asked):
        await respond(live, ask(question, channel_id=CHANNEL_ID + 10 + n))
    await respond(live, ask("What is the best pizza topping?", guild_id=GUILD_B, channel_id=CHANNEL_B))

    body = await respond(live, qa("gaps"))
    assert is_ephemeral(body)
    embed = embed_of(body)
    lines = embed["description"].split("\n")
    assert "pizza topping" in lines[0] and "asked 3 times" in lines[0]
    assert "also asked as" in lines[1]
    assert "picnic" in embed["description"]
    assert "attended" not in embed["description"]
    labels = [b["label"] for b in buttons(body["message"])]
    assert labels == ["Add answer for #1", "Add answer for #2"]

    modal = await open_modal(live, click(body["message"], "Add answer for #1"))
    values = modal_values(modal)
    phrasings = values["questions"].split("\n")
    assert len(phrasings) == 3 and all("pizza topping" in p.lower() for p in phrasings)
    assert values["answer"] == "" and values["excerpts"] == ""

    # Other servers' traffic never shows here, and days narrows the period.
    other = await respond(
        live, qa("gaps", [payloads.option("days", 7)], guild_id=GUILD_B, channel_id=CHANNEL_B)
    )
    assert "asked 1 time," in embed_of(other)["description"]


async def test_stats_shows_asked_answered_top_entries_and_feedback(live: Live) -> None:
    entry_id = await seed(live)
    answered = await respond(live, ask(MOTTO_Q, channel_id=CHANNEL_ID + 20))
    await respond(live, ask("What is the best pizza topping?", channel_id=CHANNEL_ID + 21))
    helpful = next(b for b in buttons(answered["data"]) if b["label"] == "Helpful")
    await respond(live, payloads.button_click(helpful["custom_id"], message=answered["message"]))

    body = await respond(live, qa("stats"))
    assert is_ephemeral(body)
    fields = {f["name"]: f["value"] for f in embed_of(body)["fields"]}
    assert fields["Asked"] == "2"
    assert fields["Answered"] == "1 (50%)"
    assert fields["Helpful \N{THUMBS UP SIGN}"] == "1"
    assert fields["Not helpful \N{THUMBS DOWN SIGN}"] == "0"
    assert f"`{entry_id}` \u2014 1 answer" in fields["Most used answers"]


# --------------------------------------------------------------------------------------------
# Permissions.
# --------------------------------------------------------------------------------------------


def every_qa_command(entry_id: str, host_file: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    """One invocation per subcommand: (options, resolved)."""
    file_option, file_resolved = host_file
    role, role_resolved = role_option("moderator_role", MOD_ROLE)
    return {
        "add": ([], None),
        "edit": ([payloads.option("id", entry_id)], None),
        "remove": ([payloads.option("id", entry_id)], None),
        "history": ([payloads.option("id", entry_id)], None),
        "revert": ([payloads.option("id", entry_id), payloads.option("version", 1)], None),
        "list": ([], None),
        "export": ([], None),
        "import": ([file_option], file_resolved),
        "gaps": ([], None),
        "stats": ([], None),
        "config": ([role], role_resolved),
    }


async def _state(live: Live, entry_id: str) -> tuple[object, ...]:
    store = live.assistant.store
    return (
        await live.bot.curation.export(GUILD_ID),
        len(await store.history(GUILD_ID, entry_id)),
        await store.get_moderator_role(GUILD_ID),
    )


async def test_a_member_without_permission_is_refused_by_every_qa_command(live: Live) -> None:
    entry_id = await seed(live)
    before = await _state(live, entry_id)
    async with file_host() as host:
        url = host.serve("qa.yaml", b"entries: []\n")
        commands = every_qa_command(entry_id, attachment_option("file", "qa.yaml", url, 12))
        for name, (options, resolved) in commands.items():
            body = await respond(live, qa(name, options, resolved=resolved, **PLAIN))
            assert body["type"] == 4 and is_ephemeral(body), name
            expected = MANAGE_SERVER_ONLY if name == "config" else REFUSAL
            assert body["data"]["content"] == expected, name
            assert not body["files"], name
        assert host.downloads == []
    assert await _state(live, entry_id) == before

    # Autocomplete tells a refused member nothing either.
    choices = await respond(live, qa_autocomplete("edit", [payloads.option("id", "", focused=True)], **PLAIN))
    assert choices["data"]["choices"] == []

    # A form opened by a moderator who loses the permission before submitting saves nothing.
    modal = await open_modal(live, qa("add", user=MEMBER))
    values = fill([MOTTO_Q + " again"], MOTTO_A, [STAND])
    body = await respond(live, submit(modal, values, **PLAIN))
    assert is_ephemeral(body) and REFUSAL in body["data"]["content"]
    # ...and gets back what they typed: nothing typed is lost.
    assert MOTTO_A in body["files"]["your-form.txt"].decode("utf-8")
    assert await _state(live, entry_id) == before


async def test_the_settings_fallback_role_counts_until_the_server_picks_its_own(tmp_path: Path) -> None:
    fallback = int(MOD_ROLE["id"]) + 1
    settings = make_settings(tmp_path, moderator_role_id=fallback)
    async with start_live(settings, guilds=two_guilds()) as live:
        with_fallback = {**PLAIN, "roles": [fallback]}
        assert (await respond(live, qa("stats", **with_fallback)))["data"]["content"] is None
        role, resolved = role_option("moderator_role", MOD_ROLE)
        await respond(live, qa("config", [role], resolved=resolved))
        refused = await respond(live, qa("stats", **with_fallback))
        assert refused["data"]["content"] == REFUSAL


@pytest.mark.parametrize("who", ["moderator role", "manage server"])
async def test_curators_are_accepted_by_every_qa_command(tmp_path: Path, who: str) -> None:
    async with start_live(make_settings(tmp_path), guilds=two_guilds()) as live:
        entry_id = await seed(live)
        role, resolved = role_option("moderator_role", MOD_ROLE)
        configured = await respond(live, qa("config", [role], resolved=resolved))
        assert "may now curate" in configured["data"]["content"]
        # The reply says how a role without Manage Messages gets to see /qa.
        assert "Server Settings \u2192 Integrations" in configured["data"]["content"]
        assert await live.assistant.store.get_moderator_role(GUILD_ID) == int(MOD_ROLE["id"])

        if who == "moderator role":
            ctx: dict[str, Any] = {**PLAIN, "roles": [int(MOD_ROLE["id"])]}
        else:
            ctx = {"user": OTHER_MOD}
        async with file_host() as host:
            url = host.serve("qa.yaml", b"entries: []\n")
            commands = every_qa_command(entry_id, attachment_option("file", "qa.yaml", url, 12))
            for name, (options, resolved) in commands.items():
                interaction = qa(name, options, resolved=resolved, **ctx)
                body = await respond(live, interaction)
                content = (body.get("data") or {}).get("content") or ""
                if name == "config" and who == "moderator role":
                    assert content == MANAGE_SERVER_ONLY
                    continue
                assert content not in (REFUSAL, MANAGE_SERVER_ONLY), name
                expected_type = {"add": 9, "edit": 9, "import": 5}.get(name, 4)
                assert body["type"] == expected_type, (name, body)
                if name == "import":
                    assert "0 added" in (await followup(live, interaction))["content"]
        # The role works for autocomplete too.
        choices = await respond(
            live, qa_autocomplete("edit", [payloads.option("id", "", focused=True)], **ctx)
        )
        assert [c["value"] for c in choices["data"]["choices"]] == [entry_id]


async def test_qa_in_a_dm_is_refused_politely(live: Live) -> None:
    body = await respond(live, qa("add", guild_id=None, channel_id=DM_CHANNEL_ID))
    assert body["type"] == 4 and is_ephemeral(body)
    assert body["data"]["content"] == NOT_IN_SERVER
    choices = await respond(
        live, qa_autocomplete("edit", [payloads.option("id", "", focused=True)], guild_id=None)
    )
    assert choices["data"]["choices"] == []


async def test_the_curated_base_is_read_only_from_discord(live: Live) -> None:
    body = await respond(live, qa("edit", [payloads.option("id", "article-title")]))
    assert body["type"] == 4 and "read-only" in body["data"]["content"]
    body = await respond(live, qa("remove", [payloads.option("id", "article-title")]))
    assert "read-only" in body["data"]["content"]


# --------------------------------------------------------------------------------------------
# Isolation between servers and DMs.
# --------------------------------------------------------------------------------------------


async def test_an_entry_of_server_a_never_shows_in_server_b_or_in_dms(live: Live) -> None:
    entry_id = await seed(live)
    assert "motto" in (await answer_text(live, MOTTO_Q, channel_id=CHANNEL_ID) or "")
    assert await answer_text(live, MOTTO_Q, channel_id=CHANNEL_B, guild_id=GUILD_B) is None
    assert await answer_text(live, MOTTO_Q, channel_id=DM_CHANNEL_ID, guild_id=None) is None
    await live.fake.dispatch("MESSAGE_CREATE", payloads.dm_message(MOTTO_Q))
    dm = await live.fake.wait_for_request("POST", paths.channel_messages(DM_CHANNEL_ID))
    assert "don't know" in dm.json["embeds"][0]["title"]
    # The base answers everywhere.
    for channel, guild in ((CHANNEL_B + 1, GUILD_B), (DM_CHANNEL_ID, None)):
        assert "Blinken" in (
            await answer_text(live, "Who attended the meeting?", channel_id=channel, guild_id=guild) or ""
        )

    b = {"guild_id": GUILD_B, "channel_id": CHANNEL_B}
    choices = await respond(live, qa_autocomplete("edit", [payloads.option("id", "", focused=True)], **b))
    assert choices["data"]["choices"] == []
    listed = await respond(live, qa("list", **b))
    assert "no entries of its own" in listed["data"]["content"]
    exported = await respond(live, qa("export", **b))
    assert yaml.safe_load(next(iter(exported["files"].values()))) == {"entries": []}
    for sub in ("edit", "remove", "history"):
        refused = await respond(live, qa(sub, [payloads.option("id", entry_id)], **b))
        assert "no entry 'what-is-our-club-motto'" in refused["data"]["content"], sub
    gaps_a = await respond(live, qa("gaps"))
    assert "No unanswered questions" in gaps_a["data"]["content"]

    # Same question in A's autocomplete: offered.
    mine = await respond(live, qa_autocomplete("edit", [payloads.option("id", "motto", focused=True)]))
    assert [c["value"] for c in mine["data"]["choices"]] == [entry_id]
    assert all(len(c["name"]) <= 100 for c in mine["data"]["choices"])
