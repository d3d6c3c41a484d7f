"""Every way of asking takes the one asking path: the same rate limit in the same words, the
same duplicate handling, the same answer.

The five ways, each driven through the real bot over the fake Discord: `/ask`, the "Ask the
bot" message menu, a suggestion chosen from a menu, a mention and a DM.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.discord_app.asking import ALREADY_ANSWERED, NO_QUESTION
from bot.discord_app.errors import cooldown_text
from tests.discord_app.conftest import Live, make_settings, respond, start_live
from tests.fakediscord import CHANNEL_ID, GUILD_ID, USER_ID, payloads, snowflake
from tests.fakediscord.recorder import RecordedRequest

pytestmark = pytest.mark.e2e

EPHEMERAL = 64
ASKER = payloads.user(USER_ID + 500, "asker")
#: Not answered, but close to known questions: the reply carries a suggestion menu.
UNKNOWN = "What did Olaf Scholz say?"
#: Each suggestion menu is made by a user of its own, so only the asker's questions count.
_helpers = itertools.count(USER_ID + 600)


@dataclass
class Said:
    """What the bot sent back for one question."""

    text: str | None
    embeds: list[dict[str, Any]]
    private: bool
    #: The suggestion menu, and the message it is on, when the answer offered one.
    menu: dict[str, Any] | None = None
    message: dict[str, Any] | None = None


def _menu(components: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((c for row in components for c in row["components"] if c["type"] == 3), None)


async def _interaction(live: Live, interaction: dict[str, Any]) -> Said:
    body = await respond(live, interaction)
    data = body["data"]
    return Said(
        data.get("content"),
        data.get("embeds") or [],
        bool((data.get("flags") or 0) & EPHEMERAL),
        _menu(data.get("components") or []),
        body.get("message"),
    )


async def _message(live: Live, message: dict[str, Any]) -> Said:
    await live.fake.dispatch("MESSAGE_CREATE", message)

    def replies_to_it(request: RecordedRequest) -> bool:
        if request.method != "POST" or not isinstance(request.json, dict):
            return False
        reference = request.json.get("message_reference") or {}
        return str(reference.get("message_id")) == message["id"]

    sent = await live.fake.requests.wait_for(replies_to_it, 10.0, f"a reply to {message['id']}")
    return Said(sent.json.get("content"), sent.json.get("embeds") or [], False)


async def by_slash(live: Live, question: str, channel_id: int) -> Said:
    options = [payloads.option("question", question)]
    return await _interaction(live, payloads.slash_command("ask", options, channel_id=channel_id, user=ASKER))


async def by_message_menu(live: Live, question: str, channel_id: int) -> Said:
    target = payloads.message(question, author=payloads.user(), channel_id=channel_id, guild_id=GUILD_ID)
    interaction = payloads.message_command("Ask the bot", target, channel_id=channel_id, user=ASKER)
    return await _interaction(live, interaction)


#: The suggestion menus shown so far, by (bot, channel, question): choosing again in the same
#: channel uses the same menu (asking again there would be held back as a duplicate).
_menus: dict[tuple[int, int, str], Said] = {}


async def offer_menu(live: Live, question: str, channel_id: int) -> Said:
    """Someone else asks `question` (which must be unknown) in the channel; the reply's menu."""
    offered = _menus.get((id(live.bot), channel_id, question))
    if offered is None:
        helper = payloads.user(next(_helpers), "helper")
        options = [payloads.option("question", question)]
        offered = await _interaction(
            live, payloads.slash_command("ask", options, channel_id=channel_id, user=helper)
        )
        _menus[(id(live.bot), channel_id, question)] = offered
    assert offered.menu is not None and offered.message is not None, "no suggestion menu"
    return offered


async def by_suggestion(live: Live, question: str, channel_id: int) -> Said:
    """The asker picks the first suggestion offered for `question`."""
    offered = await offer_menu(live, question, channel_id)
    assert offered.menu is not None
    value = offered.menu["options"][0]["value"]
    pick = payloads.select_menu(
        offered.menu["custom_id"], [value], message=offered.message, channel_id=channel_id, user=ASKER
    )
    return await _interaction(live, pick)


async def by_mention(live: Live, question: str, channel_id: int) -> Said:
    return await _message(
        live, payloads.guild_message(question, author=ASKER, channel_id=channel_id, mention_bot=True)
    )


async def by_dm(live: Live, question: str, channel_id: int) -> Said:
    return await _message(live, payloads.dm_message(question, author=ASKER))


Way = Callable[[Live, str, int], Awaitable[Said]]
WAYS: dict[str, Way] = {
    "/ask": by_slash,
    "message menu": by_message_menu,
    "suggestion": by_suggestion,
    "mention": by_mention,
    "DM": by_dm,
}
#: The ways whose answers everyone in a server channel sees.
IN_A_SERVER_CHANNEL = ["/ask", "message menu", "suggestion", "mention"]
#: Whoever is refused by an interaction is told privately; a message gets a reply.
PRIVATE_NOTICE = {"/ask": True, "message menu": True, "suggestion": True, "mention": False, "DM": False}
COOLDOWN_TEXTS = {cooldown_text(seconds) for seconds in range(1, 61)}


@pytest.mark.parametrize("way", list(WAYS))
async def test_every_way_of_asking_shares_one_rate_limit_and_its_wording(tmp_path: Path, way: str) -> None:
    settings = make_settings(tmp_path, cooldown_rate=2, cooldown_per_seconds=60, duplicate_window_seconds=0)
    async with start_live(settings) as live:
        ask = WAYS[way]
        for n in range(2):
            said = await ask(live, UNKNOWN, snowflake())
            assert said.embeds and said.text not in COOLDOWN_TEXTS, (way, n)
        refused = await ask(live, UNKNOWN, snowflake())
        assert refused.text in COOLDOWN_TEXTS and not refused.embeds, way
        assert refused.private == PRIVATE_NOTICE[way]
        # One limiter for all of them: every other way is refused now too.
        for other in WAYS:
            assert (await WAYS[other](live, UNKNOWN, snowflake())).text in COOLDOWN_TEXTS, other


@pytest.mark.parametrize("way", IN_A_SERVER_CHANNEL)
async def test_a_fresh_public_answer_is_not_posted_again_in_the_same_channel(
    tmp_path: Path, way: str
) -> None:
    async with start_live(make_settings(tmp_path)) as live:
        ask = WAYS[way]
        channel = snowflake()
        first = await ask(live, UNKNOWN, channel)
        assert first.embeds and not first.private
        again = await ask(live, UNKNOWN, channel)
        assert not again.embeds and again.private == PRIVATE_NOTICE[way]
        assert again.text is not None and again.text.startswith(ALREADY_ANSWERED)
        # Another channel gets its own answer.
        assert (await ask(live, UNKNOWN, snowflake())).embeds


@pytest.mark.parametrize(("first", "then"), [("/ask", "mention"), ("mention", "message menu")])
async def test_the_duplicate_check_spans_the_ways_of_asking(tmp_path: Path, first: str, then: str) -> None:
    async with start_live(make_settings(tmp_path)) as live:
        question = "Who attended the meeting?"
        assert (await WAYS[first](live, question, CHANNEL_ID)).embeds
        again = await WAYS[then](live, question, CHANNEL_ID)
        assert again.text is not None and again.text.startswith(ALREADY_ANSWERED) and not again.embeds


@pytest.mark.parametrize("way", ["/ask", "DM"])
async def test_a_private_answer_or_a_dm_is_never_held_back_as_a_duplicate(tmp_path: Path, way: str) -> None:
    async with start_live(make_settings(tmp_path)) as live:
        for _ in range(2):
            if way == "/ask":
                options = [payloads.option("question", UNKNOWN), payloads.option("private", True)]
                interaction = payloads.slash_command("ask", options, channel_id=CHANNEL_ID, user=ASKER)
                said = await _interaction(live, interaction)
            else:
                said = await by_dm(live, UNKNOWN, CHANNEL_ID)
            assert said.embeds, way


@pytest.mark.parametrize("way", ["message menu", "mention", "DM"])
async def test_a_question_without_text_gets_the_same_help(tmp_path: Path, way: str) -> None:
    async with start_live(make_settings(tmp_path)) as live:
        said = await WAYS[way](live, "", snowflake())
        assert said.text == NO_QUESTION and not said.embeds


@pytest.mark.parametrize("way", list(WAYS))
async def test_every_way_of_asking_ends_a_failure_in_the_same_apology(
    tmp_path: Path, way: str, caplog: pytest.LogCaptureFixture
) -> None:
    async with start_live(make_settings(tmp_path)) as live:
        channel = snowflake()
        question = "Who attended the meeting?"
        if way == "suggestion":
            question = UNKNOWN
            await offer_menu(live, question, channel)  # shown before anything breaks

        async def broken(*args: object, **kwargs: object) -> object:
            raise RuntimeError("boom")

        setattr(live.assistant, "ask_document" if way == "suggestion" else "ask", broken)
        said = await WAYS[way](live, question, channel)
        assert (
            said.text is not None and said.text.startswith("Sorry, something went wrong") and not said.embeds
        )
        assert said.private == PRIVATE_NOTICE[way]
        assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
