"""The moderators' forms and buttons for `/qa`: the entry modal, confirmations, pagers, gaps.

A button or a form re-checks the permission the command checked (`bot.discord_app.checks`):
a moderator whose role was taken away mid-edit is refused. Views are ordinary in-memory views
with timeouts (their messages are ephemeral, so nothing outlives the moderator's session);
every one answers only the moderator who opened it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final

import discord
from discord import app_commands
from discord.utils import escape_markdown, format_dt

from bot.core.answers import Answer
from bot.core.curation import (
    DraftInvalid,
    Gap,
    ScopeStats,
    describe_history,
    draft_from_text,
    draft_text,
)
from bot.core.documents import entry_document
from bot.core.limits import MAX_ANSWER_CHARS, MAX_PHRASINGS, MAX_SPEAKER_CHARS
from bot.core.models import EntryDraft
from bot.core.store import EntryVersion, StoredEntry, StoreError, VersionConflict
from bot.core.wording import plural
from bot.discord_app import render
from bot.discord_app.checks import NotInServer, require_curator, require_owner, require_same_server
from bot.discord_app.errors import report
from bot.discord_app.live_components import TrackedModal, TrackedView
from bot.discord_app.replies import respond
from bot.discord_app.stale import FORM_FILE, give_back

if TYPE_CHECKING:
    from bot.discord_app.client import MeetingBot

log = logging.getLogger(__name__)

#: A moderator may take a while to write an answer; an unsubmitted form is forgotten after this.
MODAL_TIMEOUT: Final = 60 * 60.0
#: Buttons on ephemeral replies: Discord lets the bot edit those for 15 minutes.
VIEW_TIMEOUT: Final = 15 * 60.0
#: A removal's confirmation is answered now or not at all.
CONFIRM_TIMEOUT: Final = 5 * 60.0
LIST_PAGE_SIZE: Final = 10
#: "Add answer for #n" buttons under the gap report (one row).
MAX_GAP_BUTTONS: Final = render.MAX_BUTTONS_PER_ROW

FORM_REFUSED: Final = "Nothing was saved: {reason} Everything you typed is attached as `{file}`."

_ACTIONS: Final = {
    "seed": "loaded from the knowledge files",
    "create": "added",
    "edit": "edited",
    "remove": "removed",
    "revert": "reverted",
    "import": "imported",
}


# --------------------------------------------------------------------------------------------
# Rendering (every limit comes from `render`).
# --------------------------------------------------------------------------------------------


def code(entry_id: str) -> str:
    """An entry id in inline code (ids are [a-z0-9._-], so they cannot break out of it)."""
    return f"`{entry_id}`"


def preview_embed(bot: MeetingBot, guild_id: int, stored: StoredEntry) -> discord.Embed:
    """How the entry answers in this server, as `/ask` would show it."""
    service = bot.assistant.service
    doc = service.document(guild_id, stored.id) or entry_document(stored.entry, guild_id, service.lexicon)
    answer: Answer = service.render_document(stored.entry.questions[0], doc)
    embed = render.answer_embed(answer)
    phrasings = "\n".join(f"\u2022 {escape_markdown(q)}" for q in stored.entry.questions)
    embed.insert_field_at(
        0, name="Asked as", value=render.truncate(phrasings, render.MAX_FIELD_VALUE), inline=False
    )
    embed.set_footer(
        text=render.truncate(
            f"Entry {stored.id} \u00b7 version {stored.version} \u00b7 this server only", render.MAX_FOOTER
        )
    )
    return render.fit_embed(embed)


def entry_summary_embed(stored: StoredEntry, title: str) -> discord.Embed:
    entry = stored.entry
    embed = discord.Embed(
        title=render.truncate(title, render.MAX_EMBED_TITLE),
        description=render.truncate(
            discord.utils.escape_mentions(entry.answer), render.MAX_EMBED_DESCRIPTION
        ),
        colour=render.COLOUR_ANSWER,
    )
    phrasings = "\n".join(f"\u2022 {escape_markdown(q)}" for q in entry.questions)
    embed.add_field(name="Asked as", value=render.truncate(phrasings, render.MAX_FIELD_VALUE), inline=False)
    embed.set_footer(text=f"version {stored.version}")
    return render.fit_embed(embed)


def draft_problems_embed(error: DraftInvalid) -> discord.Embed:
    """Every problem of a draft, and the closest passage of the source for each excerpt that is
    not verbatim (to paste instead)."""
    count = len(error.problems)
    bullets = [f"\u2022 {render.escape_user_text(p, 600)}" for p in error.problems]
    embed = discord.Embed(
        title=f"Not saved: {plural(count, 'problem')} to fix",
        description=render.fit_lines(bullets, render.MAX_EMBED_DESCRIPTION),
        colour=render.COLOUR_UNKNOWN,
    )
    for n, passage in enumerate(error.closest, start=1):
        if passage is None or len(embed.fields) >= render.MAX_FIELDS:
            continue
        embed.add_field(
            name=render.truncate(
                f"Closest passage to excerpt {n} ({passage.location})", render.MAX_FIELD_NAME
            ),
            value=render.truncate(escape_markdown(passage.text), render.MAX_FIELD_VALUE),
            inline=False,
        )
    return render.fit_embed(embed)


def history_embed(entry_id: str, versions: Sequence[EntryVersion]) -> discord.Embed:
    """Newest first: version, when, who, what happened and what changed."""
    changes = describe_history(versions)
    lines: list[str] = []
    for version, change in zip(versions, changes, strict=True):
        who = f"<@{version.actor_id}>" if version.actor_id else "the knowledge files"
        action = _ACTIONS.get(version.action, version.action)
        if version.note:
            action += f" ({version.note})"
        detail = "" if change == action or change == "removed" else f": {change}"
        lines.append(
            f"**v{version.version}** \u00b7 {format_dt(version.at, 'f')} \u00b7 {who}\n{action}{detail}"
        )
    lines.reverse()
    current = versions[-1]
    state = "removed" if current.entry is None else "live"
    embed = discord.Embed(
        title=render.truncate(f"History of {entry_id}", render.MAX_EMBED_TITLE),
        description=render.fit_lines(
            lines,
            render.MAX_EMBED_DESCRIPTION,
            lambda n: f"{render.ELLIPSIS} and {plural(n, 'older version')}",
        ),
        colour=render.COLOUR_ANSWER,
    )
    embed.set_footer(
        text=f"Current: version {current.version} ({state}). Restore any version with /qa revert."
    )
    return embed


def gaps_embed(gaps: Sequence[Gap], days: int | None) -> discord.Embed:
    period = f"in the last {plural(days, 'day')}" if days else "so far"
    lines: list[str] = []
    for n, gap in enumerate(gaps, start=1):
        line = (
            f"**{n}.** \u201c{render.escape_user_text(gap.question, 200)}\u201d \u2014 "
            f"asked {plural(gap.count, 'time')}, "
            f"last {format_dt(gap.last_asked, 'R')}"
        )
        others = [render.escape_user_text(v, 100) for v in gap.variants[1:4]]
        if others:
            extra = len(gap.variants) - 1 - len(others)
            line += "\n   also asked as: " + "; ".join(f"\u201c{v}\u201d" for v in others)
            line += f" (+{extra} more)" if extra else ""
        lines.append(line)
    embed = discord.Embed(
        title=f"Questions I could not answer {period}",
        description=render.fit_lines(lines, render.MAX_EMBED_DESCRIPTION),
        colour=render.COLOUR_UNKNOWN,
    )
    embed.set_footer(text="Similar questions are grouped. Add an answer with the buttons below or /qa add.")
    return embed


def stats_embed(report_: ScopeStats) -> discord.Embed:
    stats = report_.stats
    period = f"last {plural(report_.days, 'day')}" if report_.days else "all time"
    rate = "\u2014" if report_.answered_rate is None else f"{report_.answered_rate:.0%}"
    embed = discord.Embed(title=f"Questions in this server ({period})", colour=render.COLOUR_ANSWER)
    embed.add_field(name="Asked", value=str(stats.asked))
    embed.add_field(name="Answered", value=f"{stats.answered} ({rate})")
    embed.add_field(name="Not answered", value=str(stats.asked - stats.answered))
    embed.add_field(name="Helpful \N{THUMBS UP SIGN}", value=str(stats.helpful))
    embed.add_field(name="Not helpful \N{THUMBS DOWN SIGN}", value=str(stats.not_helpful))
    top = [f"{code(entry_id)} \u2014 {plural(n, 'answer')}" for entry_id, n in stats.top_entries]
    embed.add_field(
        name="Most used answers",
        value=render.truncate("\n".join(top) or "None yet.", render.MAX_FIELD_VALUE),
        inline=False,
    )
    embed.set_footer(text="See what people ask that I cannot answer with /qa gaps.")
    return embed


# --------------------------------------------------------------------------------------------
# The entry form.
# --------------------------------------------------------------------------------------------


def _prefill(text: str, limit: int) -> str:
    """A TextInput default within `limit`; cut at a line break when one is close."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    newline = cut.rfind("\n")
    return cut[:newline] if newline > limit // 2 else cut


class EntryModal(TrackedModal):
    """Add (no `entry_id`) or edit an entry: phrasings, answer, excerpts, speaker.

    An edit remembers the version it was opened on; saving over a newer version is refused.
    """

    questions: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
        label="Question phrasings (one per line)",
        style=discord.TextStyle.paragraph,
        custom_id="questions",
        placeholder=f"How people ask it; up to {MAX_PHRASINGS} lines",
        max_length=render.MAX_TEXT_INPUT,
    )
    answer: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
        label="Answer",
        style=discord.TextStyle.paragraph,
        custom_id="answer",
        placeholder="The answer in plain words",
        max_length=MAX_ANSWER_CHARS,
    )
    excerpts: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
        label="Supporting excerpts (one per line)",
        style=discord.TextStyle.paragraph,
        custom_id="excerpts",
        placeholder="Copied word for word from the article",
        max_length=render.MAX_TEXT_INPUT,
    )
    speaker: discord.ui.TextInput[EntryModal] = discord.ui.TextInput(
        label="Speaker (optional)",
        style=discord.TextStyle.short,
        custom_id="speaker",
        placeholder="Whose words the excerpts are, e.g. Antony J. Blinken",
        required=False,
        max_length=MAX_SPEAKER_CHARS,
    )

    def __init__(
        self,
        interaction: discord.Interaction[MeetingBot],
        title: str,
        draft: EntryDraft | None = None,
        *,
        entry_id: str | None = None,
        expected_version: int | None = None,
    ) -> None:
        super().__init__(
            interaction, title=render.truncate(title, render.MAX_MODAL_TITLE), timeout=MODAL_TIMEOUT
        )
        self.entry_id = entry_id
        self.expected_version = expected_version
        #: The server the form was opened in: it saves there or nowhere.
        self.guild_id = interaction.guild_id
        if draft is not None:
            # Each modal has its own copies of the inputs (discord.py copies them per instance).
            for field, text in zip(self._inputs, draft_text(draft), strict=True):
                field.default = _prefill(text, field.max_length or render.MAX_TEXT_INPUT) or None

    @property
    def _inputs(self) -> tuple[discord.ui.TextInput[EntryModal], ...]:
        """The inputs in the order of `draft_text`."""
        return self.questions, self.answer, self.excerpts, self.speaker

    @classmethod
    def for_add(
        cls, interaction: discord.Interaction[MeetingBot], draft: EntryDraft | None = None
    ) -> EntryModal:
        return cls(interaction, "Add an answer for this server", draft)

    @classmethod
    def for_edit(
        cls,
        interaction: discord.Interaction[MeetingBot],
        entry_id: str,
        draft: EntryDraft,
        expected_version: int,
    ) -> EntryModal:
        return cls(
            interaction, f"Edit {entry_id}", draft, entry_id=entry_id, expected_version=expected_version
        )

    def again(
        self, draft: EntryDraft, expected_version: int | None = None
    ) -> Callable[[discord.Interaction[MeetingBot]], EntryModal]:
        """How to reopen this form filled with `draft` (what the moderator typed), from a button
        pressed in the same server (`OwnerView` checks that)."""
        version = expected_version if expected_version is not None else self.expected_version

        def reopen(interaction: discord.Interaction[MeetingBot]) -> EntryModal:
            return EntryModal(
                interaction, self.title, draft, entry_id=self.entry_id, expected_version=version
            )

        return reopen

    def typed(self) -> EntryDraft:
        return draft_from_text(
            self.questions.value, self.answer.value, self.excerpts.value, self.speaker.value
        )

    async def interaction_check(self, interaction: discord.Interaction[MeetingBot], /) -> bool:  # type: ignore[override]
        # The permission is checked again on submit: it may have been taken away meanwhile.
        require_same_server(interaction, self.guild_id)
        await require_curator(interaction)
        return True

    async def on_submit(self, interaction: discord.Interaction[MeetingBot], /) -> None:  # type: ignore[override]
        guild_id = interaction.guild_id
        if guild_id is None:  # pragma: no cover - interaction_check refused it
            raise NotInServer()
        bot = interaction.client
        draft = self.typed()
        try:
            if self.entry_id is None:
                stored = await bot.curation.create(guild_id, draft, interaction.user.id)
                done = f"Added {code(stored.id)}: it answers in this server now. Here is how it looks:"
            else:
                assert self.expected_version is not None
                stored = await bot.curation.edit(
                    guild_id, self.entry_id, draft, interaction.user.id, self.expected_version
                )
                if stored.version == self.expected_version:
                    done = f"Nothing changed in {code(stored.id)} (version {stored.version})."
                else:
                    done = f"Saved {code(stored.id)} as version {stored.version}; it answers with this now:"
        except DraftInvalid as exc:
            await respond(
                interaction,
                "Nothing was saved. Press **Edit and retry** to reopen the form with what you typed.",
                embed=draft_problems_embed(exc),
                view=RetryView(interaction, self.again(exc.draft), "Edit and retry"),
            )
            return
        except VersionConflict as exc:
            await respond(
                interaction,
                f"{exc} Nothing was overwritten. Reopen `/qa edit` to start from their version, "
                f"or reopen the form with your text to replace version {exc.actual} knowingly "
                "(see `/qa history` for what they changed).",
                view=RetryView(interaction, self.again(draft, exc.actual), "Reopen with my text"),
            )
            return
        except StoreError as exc:
            # Busy, read-only, full, removed meanwhile...: say why, and keep what they typed.
            log.warning("entry form not saved: %s", exc)
            await respond(
                interaction,
                f"Not saved: {exc} Your text is kept: press **Reopen with my text** to try again.",
                view=RetryView(interaction, self.again(draft), "Reopen with my text"),
            )
            return
        await respond(interaction, done, embed=preview_embed(bot, guild_id, stored))

    async def on_error(  # type: ignore[override]  # Modal.on_error has no `item`
        self, interaction: discord.Interaction[MeetingBot], error: Exception, /
    ) -> None:
        if isinstance(error, app_commands.CheckFailure):
            # Refused (another server, or no longer a curator): say why, and give the text back.
            fields = [
                (item.custom_id, item.value)
                for item in self.children
                if isinstance(item, discord.ui.TextInput)
            ]
            reason = str(error) or "you can't use this form here."
            log.info("entry form refused: %s", reason)
            await give_back(interaction, FORM_REFUSED.format(reason=reason, file=FORM_FILE), fields)
            return
        await report(interaction, error, "the entry form")


# --------------------------------------------------------------------------------------------
# Views.
# --------------------------------------------------------------------------------------------


class OwnerView(TrackedView):
    """A view only the moderator who opened it may use (and only while they may curate)."""

    #: How long the buttons listen after their last click.
    listen_seconds: ClassVar[float] = VIEW_TIMEOUT

    def __init__(self, interaction: discord.Interaction[MeetingBot]) -> None:
        super().__init__(interaction, timeout=self.listen_seconds)
        self.owner_id = interaction.user.id
        #: The server the buttons were made in: they act there or nowhere.
        self.guild_id = interaction.guild_id

    async def interaction_check(self, interaction: discord.Interaction[MeetingBot], /) -> bool:  # type: ignore[override]
        require_owner(interaction, self.owner_id)
        require_same_server(interaction, self.guild_id)
        await require_curator(interaction)
        return True

    async def on_error(
        self,
        interaction: discord.Interaction,
        error: Exception,
        item: discord.ui.Item[Any],
        /,
    ) -> None:
        await report(interaction, error, "a /qa button")


class RetryView(OwnerView):
    """One button that reopens a form filled with what the moderator typed."""

    def __init__(
        self,
        interaction: discord.Interaction[MeetingBot],
        make_modal: Callable[[discord.Interaction[MeetingBot]], EntryModal],
        label: str,
    ) -> None:
        super().__init__(interaction)
        self.make_modal = make_modal
        self.retry.label = label

    @discord.ui.button(label="Edit and retry", style=discord.ButtonStyle.primary)
    async def retry(
        self, interaction: discord.Interaction[MeetingBot], button: discord.ui.Button[RetryView]
    ) -> None:
        # A fresh modal each time: a submitted modal is spent, and the button may be pressed again.
        await interaction.response.send_modal(self.make_modal(interaction))


class ConfirmRemoveView(OwnerView):
    listen_seconds = CONFIRM_TIMEOUT

    def __init__(
        self, interaction: discord.Interaction[MeetingBot], guild_id: int, stored: StoredEntry
    ) -> None:
        super().__init__(interaction)
        self.guild_id = guild_id
        self.stored = stored

    @discord.ui.button(label="Remove", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[MeetingBot], button: discord.ui.Button[ConfirmRemoveView]
    ) -> None:
        self.stop()
        entry_id = self.stored.id
        try:
            removed = await interaction.client.curation.remove(
                self.guild_id, entry_id, interaction.user.id, expected_version=self.stored.version
            )
        except StoreError as exc:
            await interaction.response.edit_message(content=f"Not removed: {exc}", embed=None, view=None)
            return
        await interaction.response.edit_message(
            content=(
                f"Removed {code(entry_id)}: it no longer answers here. It is kept in its history "
                f"(version {removed.version}); restore it with "
                f"`/qa revert id:{entry_id} version:{self.stored.version}`."
            ),
            embed=None,
            view=None,
        )

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(
        self, interaction: discord.Interaction[MeetingBot], button: discord.ui.Button[ConfirmRemoveView]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(
            content=f"Cancelled: {code(self.stored.id)} was not removed.", embed=None, view=None
        )


class ListPager(OwnerView):
    """Pages through a server's entries, `LIST_PAGE_SIZE` at a time."""

    def __init__(
        self, interaction: discord.Interaction[MeetingBot], entries: Sequence[StoredEntry], heading: str
    ) -> None:
        super().__init__(interaction)
        self.entries = list(entries)
        self.heading = heading
        self.page = 0
        self.pages = max(1, -(-len(self.entries) // LIST_PAGE_SIZE))
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    def embed(self) -> discord.Embed:
        start = self.page * LIST_PAGE_SIZE
        lines = []
        for stored in self.entries[start : start + LIST_PAGE_SIZE]:
            first = render.escape_user_text(stored.entry.questions[0], 150)
            more = len(stored.entry.questions) - 1
            extra = f" (+{plural(more, 'phrasing')})" if more else ""
            lines.append(f"{code(stored.id)} \u2014 {first}{extra} \u00b7 v{stored.version}")
        embed = discord.Embed(
            title=render.truncate(self.heading, render.MAX_EMBED_TITLE),
            description=render.fit_lines(lines, render.MAX_EMBED_DESCRIPTION),
            colour=render.COLOUR_ANSWER,
        )
        total = len(self.entries)
        embed.set_footer(text=f"Page {self.page + 1}/{self.pages} \u00b7 {plural(total, 'entry')}")
        return embed

    async def _show(self, interaction: discord.Interaction[MeetingBot], page: int) -> None:
        self.page = min(max(0, page), self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.embed(), view=self)

    @discord.ui.button(
        label="Previous", emoji="\N{BLACK LEFT-POINTING TRIANGLE}", style=discord.ButtonStyle.secondary
    )
    async def previous(
        self, interaction: discord.Interaction[MeetingBot], button: discord.ui.Button[ListPager]
    ) -> None:
        await self._show(interaction, self.page - 1)

    @discord.ui.button(
        label="Next", emoji="\N{BLACK RIGHT-POINTING TRIANGLE}", style=discord.ButtonStyle.secondary
    )
    async def next(
        self, interaction: discord.Interaction[MeetingBot], button: discord.ui.Button[ListPager]
    ) -> None:
        await self._show(interaction, self.page + 1)


class GapButton(discord.ui.Button["GapsView"]):
    def __init__(self, number: int, gap: Gap) -> None:
        super().__init__(label=f"Add answer for #{number}", style=discord.ButtonStyle.primary)
        self.gap = gap

    async def callback(self, interaction: discord.Interaction[MeetingBot]) -> None:  # type: ignore[override]
        phrasings = [" ".join(v.split()) for v in self.gap.variants][:MAX_PHRASINGS]
        draft = EntryDraft(questions=phrasings, answer="", excerpts=[], speaker=None)
        await interaction.response.send_modal(EntryModal.for_add(interaction, draft))


class GapsView(OwnerView):
    """One "Add answer for #n" button per listed gap (the first `MAX_GAP_BUTTONS`)."""

    def __init__(self, interaction: discord.Interaction[MeetingBot], gaps: Sequence[Gap]) -> None:
        super().__init__(interaction)
        for number, gap in enumerate(gaps[:MAX_GAP_BUTTONS], start=1):
            self.add_item(GapButton(number, gap))
