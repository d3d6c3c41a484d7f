"""Shared checks for the reliability tests: Discord's payload limits, "pings nobody", a live bot."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings

from bot.core.assistant import Assistant
from bot.discord_app import render
from bot.discord_app.client import MeetingBot
from bot.settings import Settings
from tests.discord_app.conftest import Live, make_settings
from tests.fakediscord import BOT_TOKEN, fake_discord, payloads, running_client

JSON = dict[str, Any]

#: Text that would ping (in message content) or render as a mention: @everyone, @here, and
#: user/role mentions with a real snowflake (17-20 digits, what Discord and discord.py parse).
RAW_MENTION = re.compile(r"@(everyone|here)|<@[!&]?\d{17,20}>")
#: discord.utils.escape_mentions puts a zero-width space after the "@".
ZWSP = "\u200b"


def fuzz(examples: int) -> settings:
    """Hypothesis settings of the fuzz tests: no per-example deadline, one bot for many examples."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        print_blob=True,
    )


def settings_for(tmp_path: Path, **over: Any) -> Settings:
    """Settings for a test bot: no rate limit or duplicate suppression unless a test asks."""
    values: dict[str, Any] = {"cooldown_rate": 1_000_000, "duplicate_window_seconds": 0.0}
    values.update(over)
    return make_settings(tmp_path, **values)


@contextlib.asynccontextmanager
async def live_bot(
    settings: Settings, *, assistant: Assistant | None = None, token: str = BOT_TOKEN, **fake: Any
) -> AsyncIterator[Live]:
    """The real MeetingBot over the fake Discord; starts (and closes) an Assistant unless given one."""
    own = assistant is None
    running = assistant if assistant is not None else await Assistant.start(settings)
    try:
        async with fake_discord(**fake) as fake_api:
            bot = MeetingBot(running, settings, guild_ready_timeout=0.1)
            async with running_client(bot, token=token):
                yield Live(fake_api, bot, running, settings)
    finally:
        if own:
            await running.close()


def ask_payload(question: str, **ctx: Any) -> JSON:
    options = [payloads.option("question", question)]
    if "private" in ctx:
        options.append(payloads.option("private", ctx.pop("private")))
    return payloads.slash_command("ask", options, **ctx)


async def respond(live: Live, interaction: JSON, timeout: float = 10.0) -> JSON:  # noqa: ASYNC109
    """Dispatch an interaction and return the body of its callback, with the message made of it."""
    await live.fake.dispatch("INTERACTION_CREATE", interaction)
    request = await live.fake.wait_for_interaction_response(interaction, timeout)
    assert isinstance(request.json, dict), request
    body = dict(request.json)
    resource = (request.response or {}).get("resource") or {}
    if "message" in resource:
        body["message"] = resource["message"]
    return body


# ---- Discord's limits, checked on what is really sent -----------------------------------------


def embed_total(embed: JSON) -> int:
    """Characters Discord counts toward the 6,000 limit of one embed."""
    total = len(embed.get("title") or "") + len(embed.get("description") or "")
    for f in embed.get("fields") or []:
        total += len(f.get("name") or "") + len(f.get("value") or "")
    total += len((embed.get("footer") or {}).get("text") or "")
    total += len((embed.get("author") or {}).get("name") or "")
    return total


def embed_problems(embed: JSON) -> list[str]:
    """Every way `embed` (as sent, a dict) breaks Discord's documented embed limits."""
    problems: list[str] = []
    if len(embed.get("title") or "") > render.MAX_EMBED_TITLE:
        problems.append(f"title {len(embed['title'])} > {render.MAX_EMBED_TITLE}")
    if len(embed.get("description") or "") > render.MAX_EMBED_DESCRIPTION:
        problems.append(f"description {len(embed['description'])} > {render.MAX_EMBED_DESCRIPTION}")
    fields = embed.get("fields") or []
    if len(fields) > render.MAX_FIELDS:
        problems.append(f"{len(fields)} fields > {render.MAX_FIELDS}")
    for n, f in enumerate(fields):
        if not f.get("name") or len(f["name"]) > render.MAX_FIELD_NAME:
            problems.append(f"field {n} name length {len(f.get('name') or '')}")
        if not f.get("value") or len(f["value"]) > render.MAX_FIELD_VALUE:
            problems.append(f"field {n} value length {len(f.get('value') or '')}")
    footer = (embed.get("footer") or {}).get("text") or ""
    if len(footer) > render.MAX_FOOTER:
        problems.append(f"footer {len(footer)} > {render.MAX_FOOTER}")
    if embed_total(embed) > render.MAX_EMBED_TOTAL:
        problems.append(f"total {embed_total(embed)} > {render.MAX_EMBED_TOTAL}")
    return problems


def component_problems(rows: list[JSON]) -> list[str]:
    """Every way message components break Discord's limits (rows, buttons, selects)."""
    problems: list[str] = []
    if len(rows) > 5:
        problems.append(f"{len(rows)} action rows > 5")
    for row in rows:
        items = row.get("components") or []
        if not 1 <= len(items) <= 5:
            problems.append(f"action row with {len(items)} components")
        for item in items:
            custom_id = item.get("custom_id") or ""
            if len(custom_id) > 100:
                problems.append(f"custom_id {len(custom_id)} > 100")
            if item.get("type") == payloads.BUTTON and len(item.get("label") or "") > render.MAX_BUTTON_LABEL:
                problems.append(f"button label {len(item['label'])} > {render.MAX_BUTTON_LABEL}")
            if item.get("type") == payloads.STRING_SELECT:
                options = item.get("options") or []
                if not 1 <= len(options) <= render.MAX_SELECT_OPTIONS:
                    problems.append(f"select with {len(options)} options")
                for option in options:
                    if not option.get("label") or len(option["label"]) > render.MAX_SELECT_LABEL:
                        problems.append(f"select label length {len(option.get('label') or '')}")
                    if not option.get("value") or len(option["value"]) > render.MAX_SELECT_VALUE:
                        problems.append(f"select value length {len(option.get('value') or '')}")
                if len(item.get("placeholder") or "") > 150:
                    problems.append("select placeholder > 150")
    return problems


def message_problems(data: JSON, *, mentions_allowed_in_text: bool = False) -> list[str]:
    """Limits and ping-safety of one message body (callback data, follow-up or channel message).

    `mentions_allowed_in_text`: the bot itself names a user or role (e.g. who edited an entry);
    `allowed_mentions` must still ping nobody, but the text may hold the mention."""
    problems: list[str] = []
    content = data.get("content") or ""
    if len(content) > render.MAX_MESSAGE:
        problems.append(f"content {len(content)} > {render.MAX_MESSAGE}")
    embeds = data.get("embeds") or []
    if len(embeds) > 10:
        problems.append(f"{len(embeds)} embeds > 10")
    if sum(embed_total(e) for e in embeds) > render.MAX_EMBED_TOTAL:
        problems.append("embeds together exceed 6000 characters")
    for embed in embeds:
        problems += embed_problems(embed)
    problems += component_problems(data.get("components") or [])
    allowed = data.get("allowed_mentions")
    if allowed is None or allowed.get("parse") != [] or allowed.get("users") or allowed.get("roles"):
        problems.append(f"allowed_mentions would ping: {allowed!r}")
    if allowed is not None and allowed.get("replied_user"):
        problems.append("allowed_mentions pings the replied-to user")
    text = json.dumps({"content": content, "embeds": embeds}, ensure_ascii=False)
    if not mentions_allowed_in_text and RAW_MENTION.search(text):
        problems.append(f"unescaped mention in the message: {RAW_MENTION.search(text)!r}")
    return problems
