"""End to end: the real bot over the fake Discord, asserting on what Discord receives."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.core.text import normalize_verbatim
from tests.conftest import ARTICLE
from tests.discord_app.conftest import Live, make_settings, respond, start_live
from tests.fakediscord import (
    BOT_USER_ID,
    CHANNEL_ID,
    DM_CHANNEL_ID,
    GUILD_ID,
    USER_ID,
    paths,
    payloads,
)

pytestmark = pytest.mark.e2e

EPHEMERAL = 64
ARTICLE_TEXT = normalize_verbatim(ARTICLE.read_text(encoding="utf-8"))


def ask(question: str, **ctx: Any) -> dict[str, Any]:
    options = [payloads.option("question", question)]
    if "private" in ctx:
        options.append(payloads.option("private", ctx.pop("private")))
    return payloads.slash_command("ask", options, **ctx)


def embed_of(body: dict[str, Any]) -> dict[str, Any]:
    [embed] = body["data"]["embeds"]
    return embed


def assert_pings_nobody(data: dict[str, Any]) -> None:
    assert data["allowed_mentions"] == {"parse": [], "replied_user": False} or data["allowed_mentions"] == {
        "parse": []
    }


async def test_commands_are_synced_to_the_dev_guild(live: Live) -> None:
    put = live.fake.find_requests("PUT", paths.guild_commands(GUILD_ID))
    assert put, "commands were not synced on start"
    names = {c["name"] for c in put[0].json}
    assert {"ask", "quote", "about", "Ask the bot"} <= names
    ask_cmd = next(c for c in put[0].json if c["name"] == "ask")
    question = next(o for o in ask_cmd["options"] if o["name"] == "question")
    assert question["max_length"] == 300 and question["autocomplete"] is True


async def test_identify_asks_for_no_privileged_intent(live: Live) -> None:
    intents = discord.Intents._from_value(live.fake.identify_payloads[0]["intents"])
    assert intents.guilds and intents.guild_messages and intents.dm_messages
    assert not intents.message_content and not intents.members and not intents.presences


async def test_ask_answers_with_an_embed_quoting_the_article(live: Live) -> None:
    body = await respond(live, ask("Who attended the meeting?"))
    assert body["type"] == 4
    embed = embed_of(body)
    assert "Blinken" in embed["description"] and "Hamada" in embed["description"]
    assert embed["fields"], "no cited excerpt"
    excerpt = embed["fields"][0]["value"].removeprefix("> ").strip("\u201c\u201d")
    assert normalize_verbatim(excerpt.replace("\\", "")) in ARTICLE_TEXT
    assert "\u00b6" in embed["fields"][0]["name"]
    assert "January 12, 2023" in embed["footer"]["text"]
    assert not body["data"].get("flags")
    assert_pings_nobody(body["data"])
    # Feedback buttons come with every answer.
    labels = [c["label"] for row in body["data"]["components"] for c in row["components"]]
    assert labels == ["Helpful", "Not helpful"]


async def test_each_question_is_logged_with_whether_it_was_answered(live: Live) -> None:
    await respond(live, ask("Who attended the meeting?"))
    await respond(live, ask("What is the best pizza topping?", channel_id=CHANNEL_ID + 1))
    assert await live.assistant.questions.flush(10)  # the log is written behind the answers
    stats = await live.assistant.store.guild_stats(GUILD_ID)
    assert stats.asked == 2 and stats.answered == 1
    [gap] = await live.assistant.store.unanswered_questions(GUILD_ID)
    assert gap.question == "What is the best pizza topping?"


async def test_private_answers_are_ephemeral(live: Live) -> None:
    body = await respond(live, ask("Who attended the meeting?", private=True))
    assert body["data"]["flags"] & EPHEMERAL


async def test_abstention_offers_suggestions_and_choosing_one_answers(live: Live) -> None:
    body = await respond(live, ask("What did Olaf Scholz say?"))
    embed = embed_of(body)
    assert "don't know" in embed["title"]
    assert "Olaf Scholz" in embed["description"]
    [row] = body["data"]["components"]
    [select] = row["components"]
    assert select["type"] == 3 and 1 <= len(select["options"]) <= 25
    choice = select["options"][0]

    pick = payloads.select_menu(select["custom_id"], [choice["value"]], message=body["message"])
    reply = await respond(live, pick)
    answer = embed_of(reply)
    assert reply["type"] == 4
    assert answer["title"] == choice["label"]
    assert answer["fields"]


async def test_autocomplete_returns_known_phrasings(live: Live) -> None:
    interaction = payloads.autocomplete("ask", [payloads.option("question", "who atten", focused=True)])
    body = await respond(live, interaction)
    assert body["type"] == 8
    choices = body["data"]["choices"]
    assert 1 <= len(choices) <= 25
    assert all(len(c["name"]) <= 100 and len(c["value"]) <= 100 for c in choices)
    assert "attend" in choices[0]["name"].lower()


async def test_autocomplete_on_an_empty_field_offers_questions(live: Live) -> None:
    interaction = payloads.autocomplete("ask", [payloads.option("question", "", focused=True)])
    body = await respond(live, interaction)
    assert 1 <= len(body["data"]["choices"]) <= 25


async def test_quote_by_speaker_and_topic(live: Live) -> None:
    body = await respond(
        live,
        payloads.slash_command(
            "quote", [payloads.option("speaker", "blinken"), payloads.option("topic", "Putin")]
        ),
    )
    embed = embed_of(body)
    assert "Blinken" in embed["title"]
    assert any("Putin" in f["value"] for f in embed["fields"])
    assert all("Blinken" in f["name"] for f in embed["fields"])


async def test_quote_speaker_autocomplete_and_unknown_speaker(live: Live) -> None:
    interaction = payloads.autocomplete("quote", [payloads.option("speaker", "aus", focused=True)])
    body = await respond(live, interaction)
    assert [c["value"] for c in body["data"]["choices"]] == ["austin"]
    refused = await respond(live, payloads.slash_command("quote", [payloads.option("speaker", "Scholz")]))
    assert refused["data"]["flags"] & EPHEMERAL
    assert "no quotations" in refused["data"]["content"]


async def test_about_describes_the_source(live: Live) -> None:
    embed = embed_of(await respond(live, payloads.slash_command("about")))
    text = str(embed)
    assert "U.S. and Japan affirm their unwavering support for Ukraine" in text
    assert "January 12, 2023" in text


async def test_message_context_menu_answers_the_message(live: Live) -> None:
    target = payloads.message("who attended the meetng?", author=payloads.user(), channel_id=CHANNEL_ID)
    body = await respond(live, payloads.message_command("Ask the bot", target))
    assert "Blinken" in embed_of(body)["description"]


async def test_a_dm_is_answered(live: Live) -> None:
    await live.fake.dispatch("MESSAGE_CREATE", payloads.dm_message("where was the meeting held?"))
    sent = await live.fake.wait_for_request("POST", paths.channel_messages(DM_CHANNEL_ID))
    assert "Washington" in str(sent.json["embeds"])
    assert_pings_nobody(sent.json)


async def test_a_mention_gets_a_reply_and_other_messages_are_ignored(live: Live) -> None:
    await live.fake.dispatch("MESSAGE_CREATE", payloads.guild_message("who attended?", mention_bot=False))
    mention = payloads.guild_message("who attended?", mention_bot=True)
    await live.fake.dispatch("MESSAGE_CREATE", mention)
    sent = await live.fake.wait_for_request("POST", paths.channel_messages(CHANNEL_ID))
    assert int(sent.json["message_reference"]["message_id"]) == int(mention["id"])
    assert "Blinken" in str(sent.json["embeds"])
    assert_pings_nobody(sent.json)
    await asyncio.sleep(0.2)
    assert len(live.fake.find_requests("POST", paths.channel_messages(CHANNEL_ID))) == 1


async def test_the_bot_ignores_itself_and_other_bots(live: Live) -> None:
    own = payloads.bot_message(f"<@{BOT_USER_ID}> who attended?")
    other = payloads.guild_message(
        f"<@{BOT_USER_ID}> who attended?",
        mention_bot=True,
        author=payloads.user(username="otherbot", bot=True),
    )
    await live.fake.dispatch("MESSAGE_CREATE", own)
    await live.fake.dispatch("MESSAGE_CREATE", other)
    await asyncio.sleep(0.3)
    assert live.fake.find_requests("POST", paths.channel_messages(CHANNEL_ID)) == []


async def test_mass_mentions_in_the_question_ping_nobody(live: Live) -> None:
    body = await respond(live, ask("@everyone <@&123456789> who attended? @here"))
    assert_pings_nobody(body["data"])
    unknown = await respond(live, ask("@everyone <@&123456789> pizza? **bold**", channel_id=CHANNEL_ID + 5))
    description = embed_of(unknown)["description"]
    assert "@everyone" not in description.replace("@\u200beveryone", "")
    assert "\\*\\*bold\\*\\*" in description
    assert_pings_nobody(unknown["data"])


async def test_the_same_question_is_not_reposted_in_a_channel(live: Live) -> None:
    first = await respond(live, ask("Who attended the meeting?"))
    assert first["type"] == 4 and not first["data"].get("flags")
    second = await respond(live, ask("who attended the meeting"))
    assert second["data"]["flags"] & EPHEMERAL
    assert "a moment ago" in second["data"]["content"]


async def test_feedback_buttons_record_one_vote_per_user(live: Live) -> None:
    body = await respond(live, ask("Who attended the meeting?"))
    custom_ids = [c["custom_id"] for row in body["data"]["components"] for c in row["components"]]
    helpful, not_helpful = custom_ids
    question_id = int(helpful.split(":")[1])
    message = body["message"]
    for custom_id in (helpful, not_helpful, helpful):
        reply = await respond(live, payloads.button_click(custom_id, message=message))
        assert reply["data"]["flags"] & EPHEMERAL
    other_user = payloads.user(USER_ID + 1, username="someone-else")
    await respond(live, payloads.button_click(not_helpful, message=message, user=other_user))
    assert await live.assistant.store.feedback_counts(question_id) == (1, 1)


async def test_cooldown_gives_a_friendly_private_message(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, cooldown_rate=2, cooldown_per_seconds=60)
    async with start_live(settings) as live:
        for n in range(2):
            body = await respond(live, ask(f"Who attended? {n}", channel_id=CHANNEL_ID + n))
            assert body["data"]["embeds"]
        refused = await respond(live, ask("Who attended? again", channel_id=CHANNEL_ID + 9))
        assert refused["data"]["flags"] & EPHEMERAL
        assert "wait" in refused["data"]["content"]


async def test_an_exception_inside_a_command_ends_in_an_apology(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("boom")

    live.assistant.service.answer = broken  # type: ignore[method-assign]
    body = await respond(live, ask("Who attended?"))
    assert body["data"]["flags"] & EPHEMERAL
    assert "Sorry" in body["data"]["content"]
    assert any(
        "boom" in (r.exc_text or "") or (r.exc_info and "boom" in str(r.exc_info[1])) for r in caplog.records
    )


async def test_a_rate_limited_callback_is_retried(live: Live) -> None:
    live.fake.fail_with_rate_limit("POST", paths.CALLBACK, times=1)
    interaction = ask("Who attended the meeting?")
    await live.fake.dispatch("INTERACTION_CREATE", interaction)
    first = await live.fake.wait_for_request("POST", paths.CALLBACK)
    second = await live.fake.wait_for_request("POST", paths.CALLBACK)
    assert (first.status, second.status) == (429, 200)


async def test_a_slow_answer_is_deferred_then_followed_up(live: Live) -> None:
    original = live.assistant.ask

    async def slow(*args: Any, **kwargs: Any) -> Any:
        await asyncio.sleep(2.0)  # e.g. a busy database while logging the question
        return await original(*args, **kwargs)

    live.assistant.ask = slow  # type: ignore[method-assign]
    interaction = ask("Who attended the meeting?")
    await live.fake.dispatch("INTERACTION_CREATE", interaction)
    deferred = await live.fake.wait_for_interaction_response(interaction)
    assert deferred.json == {"type": 5}
    followup = await live.fake.wait_for_request("POST", paths.FOLLOWUP, timeout=10)
    assert "Blinken" in str(followup.json["embeds"])
    assert_pings_nobody(followup.json)
