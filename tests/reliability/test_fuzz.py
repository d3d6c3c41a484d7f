"""Input fuzzing: hostile questions through the answer service and the Discord rendering.

Questions are any unicode (control characters included), zero-width and bidirectional marks,
markdown, mentions (@everyone, @here, <@&id>, <@id>) and real question words, 0 to 10,000
characters. For each: no exception; the reply fits every Discord limit; nobody can be pinged;
text that echoes the user is escaped. The last test sends fuzzed questions through the fake
Discord and checks the JSON the real discord.py client sent.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest
import pytest_asyncio
from hypothesis import given, seed
from hypothesis import strategies as st

from bot.core.answers import AnswerService
from bot.core.loader import KnowledgeBase
from bot.discord_app import render
from bot.discord_app.asking import build_reply
from tests.discord_app.conftest import Live
from tests.fakediscord import CHANNEL_ID, DM_CHANNEL_ID, GUILD_ID, paths, payloads, snowflake
from tests.reliability.conftest import METRICS, ReliabilityMetrics
from tests.reliability.helpers import (
    RAW_MENTION,
    ZWSP,
    ask_payload,
    component_problems,
    embed_problems,
    fuzz,
    live_bot,
    message_problems,
    respond,
    settings_for,
)

pytestmark = pytest.mark.reliability

MENTIONS = [
    "@everyone",
    "@here",
    "<@&123456789012345678>",
    "<@123456789012345678>",
    "<@!123456789012345678>",
    "<#123456789012345678>",
    "@\u200beveryone",
    "@@everyone",
    "<@&1>",
    "＠everyone",
]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u180e"]
BIDI = ["\u200e", "\u200f", "\u061c", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2069"]
MARKDOWN = [
    "**",
    "__",
    "*",
    "_",
    "~~",
    "||",
    "`",
    "```",
    "> ",
    ">>> ",
    "# ",
    "-# ",
    "- ",
    "1. ",
    "[link](https://example.com)",
    "[**x**](https://e.com)",
    "](",
    "\\",
    "<https://example.com>",
    "https://example.com/__init__",
    "<:emoji:123456789012345678>",
    "<t:1673395200:R>",
]
CONTROL = [chr(c) for c in range(32)] + ["\x7f", "\x85", "\u2028", "\u2029"]
WORDS = [
    "Who attended the meeting?",
    "What did Blinken say about China",
    "Hamada",
    "Hayashi",
    "Austin",
    "Ukraine",
    "Putin",
    "2+2",
    " ",
    "?",
    "where",
    "when",
]
PIECES = MENTIONS + INVISIBLE + BIDI + MARKDOWN + CONTROL + WORDS

#: Short hostile questions: pieces and arbitrary unicode mixed.
questions = st.lists(
    st.one_of(st.sampled_from(PIECES), st.text(max_size=12), st.characters()), max_size=40
).map("".join)


def _stretch(text: str, length: int) -> str:
    unit = text or "@everyone **Who attended?** \u202e"
    return (unit * (length // len(unit) + 1))[:length]


#: 0 to 10,000 characters (hypothesis cannot draw that many characters one by one).
long_questions = st.builds(_stretch, questions, st.integers(0, 10_000))

SEED = METRICS.seed
#: Examples each fuzz test really ran (counted in its body, not taken from its settings).
RAN: Counter[str] = Counter()
#: The example budget of each fuzz test; together at least 2,000.
BUDGET = {"service": 1500, "long": 300, "escape": 500, "discord": 60}


_MD_ALWAYS = set("\\*_~|`")
#: Markdown that acts only at the start of a line: quotes, headings, subtext, list items.
_MD_LINE_START = re.compile(r"^(>|>>>|#{1,3}|-#|-) ")
_LINE_BREAKS = set("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def escaping_problems(original: str, shown: str, limit: int | None) -> list[str]:
    """How `shown` (render.escape_user_text(original, limit)) fails to be safe, faithful echo."""
    problems: list[str] = []
    if limit is not None and len(shown) > limit:
        problems.append(f"{len(shown)} characters > limit {limit}")
    if set(shown) & _LINE_BREAKS:
        problems.append("contains a line break")
    if RAW_MENTION.search(shown):
        problems.append(f"unescaped mention {RAW_MENTION.search(shown)!r}")
    i = 0
    plain: list[str] = []  # the text as Discord displays it (escapes removed)
    live: list[str] = []  # the characters Discord's markdown may act on (escaped ones blanked)
    while i < len(shown):
        char = shown[i]
        if char == "\\":
            if i + 1 >= len(shown):
                problems.append("ends with a lone backslash")
                break
            plain.append(shown[i + 1])
            live.append("\ufffc")
            i += 2
            continue
        if char in _MD_ALWAYS:
            problems.append(f"unescaped markdown {char!r} at {i}")
        plain.append(char)
        live.append(char)
        i += 1
    if _MD_LINE_START.match("".join(live)):
        problems.append("starts with line markdown (quote, heading or list)")
    if re.search(r"\[.*\]\(", "".join(live)):
        problems.append("a live masked link [text](url)")
    # Faithful: what is displayed is the question (whitespace folded), or a prefix of it + "…".
    flat = " ".join(original.split()).replace(ZWSP, "")
    displayed = "".join(plain).replace(ZWSP, "")
    if displayed != flat:
        cut = displayed.removesuffix(render.ELLIPSIS)
        if not (displayed.endswith(render.ELLIPSIS) and flat.startswith(cut)):
            problems.append("the echo is not the question (or a prefix of it)")
    return problems


class Core:
    """The answer service and its knowledge base, with a short repr for hypothesis reports."""

    def __init__(self, service: AnswerService, kb: KnowledgeBase) -> None:
        self.service = service
        self.kb = kb

    def __repr__(self) -> str:
        return "Core(real knowledge base)"


@pytest.fixture(scope="module")
def core(service: AnswerService, kb: KnowledgeBase) -> Core:
    return Core(service, kb)


async def check_question(core: Core, question: str, scope: int | None, question_id: int | None) -> None:
    """The whole asker path below Discord's wire for one question; raises on any problem."""
    service, kb = core.service, core.kb
    answer = service.answer(question, scope)
    json.dumps(answer.contract())  # the CLI contract always serialises
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.answered == bool(answer.citations), "answered without a citation, or vice versa"
    source = next(iter(kb.sources.values()))
    reply = build_reply(answer, question_id, source)
    assert len(reply.embed) <= render.MAX_EMBED_TOTAL
    embed = reply.embed.to_dict()
    assert embed_problems(embed) == []
    rows = reply.view.to_components() if reply.view is not None else []
    assert component_problems(rows) == []  # type: ignore[arg-type]
    shown = json.dumps(embed, ensure_ascii=False)
    assert not RAW_MENTION.search(shown), RAW_MENTION.search(shown)
    if not answer.answered:
        echo = render.escape_user_text(question, 300)
        assert f"You asked: {echo or '(empty)'}" in embed["description"]
        assert escaping_problems(question, echo, 300) == []
    # Autocomplete and /quote read the same user text.
    for choice in service.autocomplete(question[:100], scope, render.MAX_CHOICES):
        assert 0 < len(render.choice_name(choice)) <= render.MAX_CHOICE_NAME
    service.find_quotes(service.resolve_speaker(question[:100]), question[:100])


def test_no_pings_on_any_reply() -> None:
    assert render.NO_PINGS.to_dict() == {"parse": []}
    assert discord.AllowedMentions.none().to_dict() == {"parse": []}


@fuzz(BUDGET["service"])
@seed(SEED)
@given(question=questions, scope=st.sampled_from([None, GUILD_ID]), qid=st.none() | st.integers(1, 2**53))
async def test_fuzzed_questions_answer_and_render_within_limits(
    core: Core, reliability_metrics: ReliabilityMetrics, question: str, scope: int | None, qid: int | None
) -> None:
    reliability_metrics.fuzz_examples += 1
    RAN["service"] += 1
    await check_question(core, question, scope, qid)


@fuzz(BUDGET["long"])
@seed(SEED + 1)
@given(question=long_questions)
async def test_fuzzed_questions_up_to_10000_characters(
    core: Core, reliability_metrics: ReliabilityMetrics, question: str
) -> None:
    reliability_metrics.fuzz_examples += 1
    RAN["long"] += 1
    await check_question(core, question, GUILD_ID, 1)


@fuzz(BUDGET["escape"])
@seed(SEED + 2)
@given(text=st.one_of(questions, long_questions), limit=st.sampled_from([None, 80, 100, 300, 600]))
def test_echoed_user_text_is_escaped_one_line_and_faithful(
    reliability_metrics: ReliabilityMetrics, text: str, limit: int | None
) -> None:
    reliability_metrics.fuzz_examples += 1
    RAN["escape"] += 1
    assert escaping_problems(text, render.escape_user_text(text, limit), limit) == []


@pytest.mark.parametrize(
    "text",
    [
        "[**bold**](https://example.com)",
        "[a](b) **c** (d)",
        "> quote @everyone",
        "__init__ ~~x~~ ||spoiler|| `code`",
        "a\\*b\\",
        "https://example.com/__init__\\",
    ],
)
def test_known_markdown_tricks_are_escaped(text: str) -> None:
    """Regression cases the fuzzer found or that the spec names."""
    assert escaping_problems(text, render.escape_user_text(text, 300), 300) == []


def test_the_escape_check_can_fail() -> None:
    """The checker used above rejects unescaped markdown, mentions and unfaithful echoes."""
    assert escaping_problems("**x**", "**x**", None)
    assert escaping_problems("@everyone", "@everyone", None)
    assert escaping_problems("hello", "goodbye", None)
    assert escaping_problems("a b", "a\nb", None)
    assert escaping_problems("x" * 50, "x" * 50, 10)


# ---- through the fake Discord --------------------------------------------------------------


@pytest_asyncio.fixture
async def fuzz_live(tmp_path: Path) -> AsyncIterator[Live]:
    async with live_bot(settings_for(tmp_path)) as running:
        yield running


e2e_questions = questions.map(lambda q: q[:300]).filter(lambda q: q.strip() != "")


@fuzz(BUDGET["discord"])
@seed(SEED + 3)
@given(question=e2e_questions, via=st.sampled_from(["ask", "private", "dm", "mention"]))
async def test_fuzzed_questions_through_the_fake_discord(
    fuzz_live: Live, reliability_metrics: ReliabilityMetrics, question: str, via: str
) -> None:
    reliability_metrics.fuzz_examples += 1
    RAN["discord"] += 1
    live = fuzz_live
    if via in {"ask", "private"}:
        channel = snowflake()
        body = await respond(live, ask_payload(question, channel_id=channel, private=via == "private"))
        assert body["type"] in (4, 5)
        if body["type"] == 5:  # deferred past 1.5 s: the answer comes as a follow-up
            sent = await live.fake.wait_for_request("POST", paths.FOLLOWUP, 10)
            data = sent.json
        else:
            data = body["data"]
        assert message_problems(data) == []
        return
    if via == "dm":
        await live.fake.dispatch("MESSAGE_CREATE", payloads.dm_message(question))
        sent = await live.fake.wait_for_request("POST", paths.channel_messages(DM_CHANNEL_ID), 10)
    else:
        await live.fake.dispatch("MESSAGE_CREATE", payloads.guild_message(question, mention_bot=True))
        sent = await live.fake.wait_for_request("POST", paths.channel_messages(CHANNEL_ID), 10)
    assert sent.status == 200
    assert message_problems(sent.json) == []
    assert sent.json["allowed_mentions"].get("replied_user") is False


def test_at_least_2000_fuzz_examples_ran() -> None:
    """Hypothesis stops early when it runs out of new inputs; make sure it did not."""
    if set(RAN) != set(BUDGET):
        pytest.skip(f"only {sorted(RAN)} of the fuzz tests ran; the total is checked on a full run")
    for name, budget in BUDGET.items():
        assert RAN[name] >= budget, f"{name}: {RAN[name]} examples ran, {budget} wanted"
    assert sum(RAN.values()) >= 2000
