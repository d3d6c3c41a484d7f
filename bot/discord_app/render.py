"""Rendering answers for Discord: the one module that knows Discord's size limits.

Every function here returns something Discord will accept whatever the input: text is
truncated to the documented limits and user text is escaped so it cannot break formatting or
ping anyone (allowed mentions are "none" on every reply as well).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import discord
from discord.utils import escape_markdown, escape_mentions

from bot.core.answers import Answer
from bot.core.models import Quote, Source

# Discord's documented limits.
MAX_MESSAGE: Final = 2000
MAX_EMBED_TITLE: Final = 256
MAX_EMBED_DESCRIPTION: Final = 4096
MAX_FIELD_NAME: Final = 256
MAX_FIELD_VALUE: Final = 1024
MAX_FIELDS: Final = 25
MAX_FOOTER: Final = 2048
MAX_EMBED_TOTAL: Final = 6000
MAX_CHOICES: Final = 25
MAX_CHOICE_NAME: Final = 100
MAX_CHOICE_VALUE: Final = 100
MAX_SELECT_OPTIONS: Final = 25
MAX_SELECT_LABEL: Final = 100
MAX_SELECT_VALUE: Final = 100
MAX_BUTTON_LABEL: Final = 80
MAX_MODAL_TITLE: Final = 45
MAX_TEXT_INPUT: Final = 4000
MAX_TEXT_INPUT_LABEL: Final = 45
MAX_TEXT_INPUT_PLACEHOLDER: Final = 100
MAX_MODAL_INPUTS: Final = 5
MAX_BUTTONS_PER_ROW: Final = 5

#: Nobody is ever pinged by a reply, whatever the question contained.
NO_PINGS: Final = discord.AllowedMentions.none()

COLOUR_ANSWER: Final = discord.Colour.blurple()
COLOUR_UNKNOWN: Final = discord.Colour.light_grey()
ELLIPSIS: Final = "\u2026"


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + ELLIPSIS


def escape_user_text(text: str, limit: int | None = None) -> str:
    """User text shown back: no markdown, no mentions, one line. Escaping happens before the cut
    so a cut can never leave a dangling escape that breaks the rest of the message."""
    flat = " ".join(text.split())
    # Escaped piecewise around each "[": escape_markdown escapes a whole masked link "[text](url)"
    # with one backslash in front and leaves the markdown inside it live ("[**x**](url)" bold);
    # and URLs too, or one ending in "\\" would escape whatever the message says next.
    pieces = [escape_markdown(piece, as_needed=False, ignore_links=False) for piece in flat.split("[")]
    escaped = escape_mentions("\\[".join(pieces))
    if limit is not None and len(escaped) > limit:
        escaped = truncate(escaped, limit)
        # Never end on a lone backslash that would escape our own formatting.
        while escaped.endswith("\\" + ELLIPSIS):
            escaped = escaped[:-2] + ELLIPSIS
    return escaped


def blockquote(text: str, limit: int) -> str:
    lines = escape_mentions(escape_markdown(" ".join(text.split()))).split("\n")
    return truncate("\n".join(f"> {line}" for line in lines), limit)


def source_footer(source: Source | None) -> str:
    if source is None:
        return "Source: the curated knowledge base"
    return truncate(f"Source: {source.label()}", MAX_FOOTER)


def answer_embed(answer: Answer) -> discord.Embed:
    title = answer.matched_question or answer.question
    embed = discord.Embed(
        title=truncate(escape_markdown(" ".join(title.split())), MAX_EMBED_TITLE),
        description=truncate(escape_mentions(answer.answer), MAX_EMBED_DESCRIPTION),
        colour=COLOUR_ANSWER,
    )
    for citation in answer.citations[: MAX_FIELDS - 1]:
        # A moderator types the speaker: it is user text like any other (no markdown, no pings).
        label = escape_user_text(citation.speaker, MAX_FIELD_NAME // 2) if citation.speaker else ""
        label = label or "From the article"
        name = truncate(f"{label} \u00b7 {citation.location}" if citation.location else label, MAX_FIELD_NAME)
        embed.add_field(
            name=name, value=blockquote(f"\u201c{citation.excerpt}\u201d", MAX_FIELD_VALUE), inline=False
        )
    labels = list(dict.fromkeys(c.source for c in answer.citations))
    footer = f"Source: {'; '.join(labels)}" if labels else "Source: the curated knowledge base"
    embed.set_footer(text=truncate(f"{footer} \u00b7 confidence {answer.confidence:.0%}", MAX_FOOTER))
    return fit_embed(embed)


def unknown_embed(answer: Answer, source: Source | None) -> discord.Embed:
    asked = escape_user_text(answer.question, 300) or "(empty)"
    lines = [f"{answer.answer}", "", f"You asked: {asked}"]
    if answer.suggestions:
        lines += ["", "Questions I can answer that look close:"]
        lines += [f"\u2022 {escape_markdown(s)}" for s in answer.suggestions]
    embed = discord.Embed(
        title="I don't know that from the article",
        description=truncate("\n".join(lines), MAX_EMBED_DESCRIPTION),
        colour=COLOUR_UNKNOWN,
    )
    embed.set_footer(text=source_footer(source))
    return fit_embed(embed)


def quotes_embed(quotes: Sequence[tuple[Quote, str]], source: Source | None, heading: str) -> discord.Embed:
    """Quotations with their speakers; `quotes` pairs each quote with its speaker's name."""
    embed = discord.Embed(title=truncate(heading, MAX_EMBED_TITLE), colour=COLOUR_ANSWER)
    for quote, speaker in quotes[:MAX_FIELDS]:
        name = truncate(f"{speaker} \u00b7 {quote.location or ''} \u00b7 {quote.context}", MAX_FIELD_NAME)
        embed.add_field(
            name=name, value=blockquote(f"\u201c{quote.text}\u201d", MAX_FIELD_VALUE), inline=False
        )
    embed.set_footer(text=source_footer(source))
    return fit_embed(embed)


def fit_embed(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields until the embed is within Discord's 6,000-character total."""
    while len(embed) > MAX_EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    if len(embed) > MAX_EMBED_TOTAL and embed.description:
        over = len(embed) - MAX_EMBED_TOTAL
        embed.description = truncate(embed.description, max(1, len(embed.description) - over))
    return embed


def fit_lines(lines: Sequence[str], limit: int, more: Callable[[int], str] | None = None) -> str:
    """As many whole `lines` as fit in `limit` characters, then a line saying how many were left
    out (`more(n)`, default "… and n more"). A first line too long on its own is truncated."""
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    note = more or (lambda n: f"{ELLIPSIS} and {n} more")
    sizes = [0]  # sizes[k] = len("\n".join(lines[:k]))
    for line in lines:
        sizes.append(sizes[-1] + len(line) + (1 if len(sizes) > 1 else 0))
    for kept in range(len(lines) - 1, 0, -1):
        tail = note(len(lines) - kept)
        if sizes[kept] + 1 + len(tail) <= limit:
            return "\n".join([*lines[:kept], tail])
    tail = note(len(lines) - 1) if len(lines) > 1 else ""
    if not tail:
        return truncate(lines[0], limit)
    room = limit - len(tail) - 1
    return f"{truncate(lines[0], room)}\n{tail}" if room > 0 else truncate(tail, limit)


def choice_name(text: str) -> str:
    return truncate(" ".join(text.split()), MAX_CHOICE_NAME)


def select_label(text: str) -> str:
    return truncate(" ".join(text.split()), MAX_SELECT_LABEL)
