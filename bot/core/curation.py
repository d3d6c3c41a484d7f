"""Moderator curation: the rules for adding, editing, removing and reverting a server's entries.

The Discord cog is a thin layer over `CurationService`: every rule (limits, verbatim excerpts,
id generation, scope checks, keeping the answer index current, import/export, gap reports)
lives here, so the CLI and the tests exercise exactly what Discord users get.

Scopes: an int is one Discord server; `None` is the curated base, which this service reads but
never writes (`ReadOnlyScope`). Store errors (`VersionConflict`, `EntryNotFound`, `EntryExists`,
`LimitExceeded`, `StoreBusy`, `StoreReadOnly`) propagate unchanged: their messages are written
for users. Content problems raise `DraftInvalid` (one draft) or `ImportInvalid` (a file), each
listing every problem at once.

This module is part of the core: it never imports discord.
"""

from __future__ import annotations

import asyncio
import gc
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

from rapidfuzz import fuzz

from bot.core.entry_matching import MatchTable
from bot.core.limits import (
    MAX_ANSWER_CHARS,
    MAX_EXCERPT_CHARS,
    MAX_EXCERPTS,
    MAX_IMPORT_BYTES,
    MAX_PHRASING_CHARS,
    MAX_PHRASINGS,
    MAX_SPEAKER_CHARS,
    QUESTION_LOG_CLOSE_SECONDS,
    SEARCHABLE_SERVERS,
)
from bot.core.loader import Problem, check_citations, excerpt_too_short, list_limit_problems, parse_items
from bot.core.models import Citation, Entry, EntryDraft, Scope, slugify
from bot.core.offload import run_heavy
from bot.core.permissions import can_curate
from bot.core.sources import Passage
from bot.core.store import (
    EntryExists,
    EntryNotFound,
    EntrySummary,
    EntryVersion,
    GuildStats,
    LimitExceeded,
    ReadOnlyScope,
    StoredEntry,
    curation_scope,
    require_live,
)
from bot.core.text import content_tokens, normalize_query
from bot.core.wording import human_join, plural
from bot.core.yamlsafe import YamlError, dump_yaml, load_yaml

if TYPE_CHECKING:
    from bot.core.assistant import Assistant

#: Longest speaker name a moderator may give (it is shown beside every excerpt).
#: Kept here rather than in `bot.core.limits` only because that module is not ours to edit.
#: Gap grouping: two unanswered questions are one gap at or above this similarity (0..100).
GAP_SIMILARITY: Final = 85.0
#: How many distinct unanswered questions the gap report reads from the log.
GAP_SCAN_LIMIT: Final = 500
#: How many -2, -3... suffixes `unique_id` tries before giving up (a server holds 500 entries).
_MAX_ID_SUFFIX: Final = 1000
#: Quote marks a moderator may paste around an excerpt; dropped when only the inside is verbatim.
_QUOTE_PAIRS: Final = (('"', '"'), ("\u201c", "\u201d"), ("'", "'"), ("\u2018", "\u2019"), ("«", "»"))


# --------------------------------------------------------------------------------------------
# Errors and results.
# --------------------------------------------------------------------------------------------


class CurationError(Exception):
    """A curation request that cannot be done as asked; `problems` are user-facing sentences."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    @property
    def message(self) -> str:
        return str(self)


class DraftInvalid(CurationError):
    """A moderator's draft breaks one or more rules.

    `closest[i]` is, for `draft.excerpts[i]` that is not verbatim in any source, the passage
    most like it (to paste instead); None for an excerpt that is fine or was not checked.
    `draft` is what the moderator typed, so the UI can offer it again.
    """

    def __init__(self, problems: list[str], closest: list[Passage | None], draft: EntryDraft) -> None:
        self.closest = closest
        self.draft = draft
        super().__init__(problems)


class ImportInvalid(CurationError):
    """An import file was refused; nothing was changed. One message per problem."""


@dataclass(frozen=True)
class Export:
    """A server's live entries as a file in the `knowledge/entries/*.yaml` format."""

    text: str
    count: int


@dataclass(frozen=True)
class ImportReport:
    added: int
    updated: int
    #: Entries in the file identical to what the server already has (nothing written).
    unchanged: int = 0


@dataclass(frozen=True)
class Gap:
    """A group of similar questions the bot could not answer."""

    #: The most asked phrasing of the group.
    question: str
    #: How many times any phrasing of the group was asked.
    count: int
    #: Every distinct phrasing in the group, most asked first (`question` included).
    variants: list[str]
    last_asked: datetime


@dataclass(frozen=True)
class ScopeStats:
    stats: GuildStats
    #: answered / asked, or None when nothing was asked in the period.
    answered_rate: float | None
    days: int | None


# --------------------------------------------------------------------------------------------
# Pure helpers.
# --------------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def draft_from_text(questions_text: str, answer: str, excerpts_text: str, speaker: str | None) -> EntryDraft:
    """A draft from a modal's raw fields: one phrasing / excerpt per line, blank lines dropped."""
    who = (speaker or "").strip()
    return EntryDraft(
        questions=_lines(questions_text),
        answer=answer.strip(),
        excerpts=_lines(excerpts_text),
        speaker=who or None,
    )


def _common_speaker(citations: Sequence[Citation]) -> str | None:
    speakers = {c.speaker for c in citations}
    return speakers.pop() if len(speakers) == 1 else None


def draft_of(stored: StoredEntry | Entry) -> EntryDraft:
    """The draft that reproduces an entry, to pre-fill the edit modal.

    The modal has one speaker field: it is filled only when every excerpt has the same speaker
    (see `CurationService.edit` for how mixed speakers survive an edit).
    """
    entry = stored.entry if isinstance(stored, StoredEntry) else stored
    return EntryDraft(
        questions=list(entry.questions),
        answer=entry.answer,
        excerpts=[c.excerpt for c in entry.citations],
        speaker=_common_speaker(entry.citations),
    )


def draft_text(draft: EntryDraft) -> tuple[str, str, str, str]:
    """The modal's four fields for a draft (the inverse of `draft_from_text`)."""
    return "\n".join(draft.questions), draft.answer, "\n".join(draft.excerpts), draft.speaker or ""


def limit_problems(
    questions: Sequence[str], answer: str, excerpts: Sequence[str], speakers: Iterable[str | None]
) -> list[str]:
    """Every content limit an entry breaks, each message stating the limit."""
    problems: list[str] = []
    if not questions:
        problems.append("Add at least one question phrasing (one per line).")
    elif len(questions) > MAX_PHRASINGS:
        problems.append(f"There are {len(questions)} phrasings; the limit is {MAX_PHRASINGS}.")
    for n, question in enumerate(questions, start=1):
        if len(question) > MAX_PHRASING_CHARS:
            problems.append(
                f"Phrasing {n} is {len(question):,} characters; the limit is {MAX_PHRASING_CHARS:,}."
            )
        elif not normalize_query(question):
            problems.append(f"Phrasing {n} has no words to match questions against.")
    if not answer.strip():
        problems.append("The answer is empty; write the answer in plain words.")
    elif len(answer.strip()) > MAX_ANSWER_CHARS:
        problems.append(
            f"The answer is {len(answer.strip()):,} characters; the limit is {MAX_ANSWER_CHARS:,}."
        )
    if not excerpts:
        problems.append("Add at least one excerpt copied word for word from the source (one per line).")
    elif len(excerpts) > MAX_EXCERPTS:
        problems.append(f"There are {len(excerpts)} excerpts; the limit is {MAX_EXCERPTS}.")
    for n, excerpt in enumerate(excerpts, start=1):
        if len(excerpt) > MAX_EXCERPT_CHARS:
            problems.append(
                f"Excerpt {n} is {len(excerpt):,} characters; the limit is {MAX_EXCERPT_CHARS:,}."
            )
    for speaker in dict.fromkeys(s for s in speakers if s):
        if len(speaker) > MAX_SPEAKER_CHARS:
            problems.append(
                f"The speaker is {len(speaker):,} characters; the limit is {MAX_SPEAKER_CHARS:,}."
            )
    return problems


def _list_delta(name: str, before: Sequence[str], after: Sequence[str]) -> str:
    old, new = Counter(before), Counter(after)
    added = sum((new - old).values())
    removed = sum((old - new).values())
    if not added and not removed:
        return f"{name} reordered" if list(before) != list(after) else f"{name} unchanged"
    parts = [f"+{added}"] if added else []
    if removed:
        parts.append(f"\u2212{removed}")
    return f"{name} {' '.join(parts)}"


def describe_change(before: Entry | None, after: Entry | None) -> str:
    """What changed between two versions, e.g. "phrasings +2 −1; answer changed; excerpts unchanged"."""
    if before is None and after is None:
        return "no content"
    if before is None:
        assert after is not None
        return (
            f"new entry: {plural(len(after.questions), 'phrasing')}, "
            f"{plural(len(after.citations), 'excerpt')}"
        )
    if after is None:
        return "removed"
    if before == after:
        return "no changes"
    parts = [
        _list_delta("phrasings", before.questions, after.questions),
        "answer changed" if before.answer != after.answer else "answer unchanged",
        _list_delta("excerpts", [c.excerpt for c in before.citations], [c.excerpt for c in after.citations]),
    ]
    # Optional details are mentioned only when they changed, to keep the line short.
    if {c.speaker for c in before.citations} != {c.speaker for c in after.citations}:
        parts.append("speaker changed")
    if before.tags != after.tags:
        parts.append("tags changed")
    if before.entities != after.entities:
        parts.append("linked entities changed")
    return "; ".join(parts)


def describe_history(versions: Sequence[EntryVersion]) -> list[str]:
    """One `describe_change` line per version (oldest first), each against the content before it.

    A version after a removal is described against the content that was removed ("restored").
    """
    out: list[str] = []
    last: Entry | None = None
    removed = False
    for version in versions:
        if version.entry is None:
            out.append("removed")
            removed = True
            continue
        if removed:
            change = describe_change(last, version.entry)
            out.append("restored" if change == "no changes" else f"restored; {change}")
        else:
            out.append(describe_change(last, version.entry))
        last, removed = version.entry, False
    return out


def _similar_questions(a: str, b: str) -> bool:
    """Whether two normalised questions ask the same thing (for grouping gaps).

    token_set_ratio scores 100 when one question's words are a subset of the other's, so "who"
    would join every "who ..." question: a shared topic word is required as well.
    """
    if fuzz.token_set_ratio(a, b) < GAP_SIMILARITY:
        return False
    ca, cb = set(content_tokens(a)), set(content_tokens(b))
    if ca or cb:
        return bool(ca & cb) or fuzz.ratio(" ".join(sorted(ca)), " ".join(sorted(cb))) >= GAP_SIMILARITY
    return fuzz.ratio(a, b) >= GAP_SIMILARITY


@dataclass
class _Cluster:
    key: str
    question: str
    count: int
    variants: list[str]
    last_asked: datetime


def group_questions(stats: Sequence[tuple[str, int, datetime]]) -> list[Gap]:
    """Greedy clustering of (question, count, last asked), most asked first.

    Each question joins the first (largest) group whose representative it resembles; the
    representative is the group's most asked phrasing, so groups cannot drift.
    """
    ordered = sorted(stats, key=lambda s: (-s[1], -s[2].timestamp(), s[0]))
    clusters: list[_Cluster] = []
    for question, count, last in ordered:
        key = normalize_query(question)
        if not key:
            continue  # empty or punctuation-only input is not a knowledge gap
        for cluster in clusters:
            if _similar_questions(key, cluster.key):
                cluster.count += count
                cluster.variants.append(question)
                cluster.last_asked = max(cluster.last_asked, last)
                break
        else:
            clusters.append(_Cluster(key, question, count, [question], last))
    clusters.sort(key=lambda c: (-c.count, -c.last_asked.timestamp()))
    return [Gap(c.question, c.count, c.variants, c.last_asked) for c in clusters]


def _unquote(excerpt: str) -> str | None:
    """The excerpt without one pair of enclosing quote marks, or None if it has none."""
    for left, right in _QUOTE_PAIRS:
        if len(excerpt) > 2 and excerpt.startswith(left) and excerpt.endswith(right):
            return excerpt[len(left) : -len(right)].strip() or None
    return None


def _matching_entries(entries: Sequence[StoredEntry], query: str) -> list[StoredEntry]:
    table = MatchTable([(s.entry.id, s.entry.questions, s.entry.answer) for s in entries])
    return [entries[n] for n in table.order(query)]


@dataclass(frozen=True)
class _Searchable:
    """A server's entry summaries prepared for autocomplete, as of one change counter."""

    version: int
    rows: list[EntrySummary]
    table: MatchTable
    #: Indices of `rows`, most recently changed first.
    recent: list[int]


def _searchable(version: int, rows: list[EntrySummary]) -> _Searchable:
    table = MatchTable([(r.id, r.questions, r.answer) for r in rows])
    recent = sorted(range(len(rows)), key=lambda n: rows[n].updated_at, reverse=True)
    return _Searchable(version, rows, table, recent)


def _autocomplete_pairs(searchable: _Searchable, text: str, limit: int) -> list[tuple[str, str]]:
    """(id, "id — first phrasing") of the best matches, as `list_entries` would order them."""
    # Nothing typed yet: the most recently changed entries are the likeliest to be edited.
    order = searchable.table.order(text) if text.strip() else searchable.recent
    pairs: list[tuple[str, str]] = []
    for n in order[: max(0, limit)]:
        row = searchable.rows[n]
        first = row.questions[0] if row.questions else ""
        pairs.append((row.id, f"{row.id}{' (removed)' if row.deleted else ''} \u2014 {first}"))
    return pairs


def _export_item(entry: Entry) -> dict[str, Any]:
    citations: list[dict[str, Any]] = []
    for cit in entry.citations:
        item: dict[str, Any] = {"source": cit.source, "excerpt": cit.excerpt}
        if cit.speaker is not None:
            item["speaker"] = cit.speaker
        citations.append(item)  # location is derived from the source on import; not exported
    return {
        "id": entry.id,
        "questions": list(entry.questions),
        "answer": entry.answer,
        "citations": citations,
        "tags": list(entry.tags),
        "entities": list(entry.entities),
    }


def _entry_message(problem: Problem) -> str:
    """A loader Problem as "entry 'x': message" (the file name means nothing to the user)."""
    if problem.item and problem.item.startswith("id="):
        return f"entry {problem.item[3:]}: {problem.message}"
    if problem.item:
        return f"{problem.item}: {problem.message}"
    return f"file: {problem.message}"


def import_size_problem(size: int) -> str | None:
    """Why a file of `size` bytes cannot be imported, or None; checkable before downloading it."""
    if size <= MAX_IMPORT_BYTES:
        return None
    return (
        f"The file is {size:,} bytes; the limit is {MAX_IMPORT_BYTES:,} bytes "
        f"({MAX_IMPORT_BYTES // 1024} KiB). Split it into smaller files."
    )


def _check_size(data: bytes) -> None:
    problem = import_size_problem(len(data))
    if problem is not None:
        raise ImportInvalid([problem])


def _utc_now() -> datetime:
    return datetime.now(UTC)


# --------------------------------------------------------------------------------------------
# The service.
# --------------------------------------------------------------------------------------------


class CurationService:
    """Curation of one process's `Assistant`: store writes plus the matching index updates."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        max_entries_per_guild: int,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.assistant = assistant
        self.store = assistant.store
        self.service = assistant.service
        self.kb = assistant.kb
        self.max_entries = max_entries_per_guild
        self._clock = clock or _utc_now
        #: Ids of the curated base: a server entry may not reuse one, so an answer's entry id
        #: names one entry. The base only changes when the process restarts.
        self.base_ids: frozenset[str] = frozenset(e.id for e in self.kb.entries)
        #: Autocomplete's prepared summaries of the servers searched last (see `_searchable`).
        self._searchables: OrderedDict[tuple[Scope, bool], _Searchable] = OrderedDict()
        self._building: dict[tuple[Scope, bool, int], asyncio.Task[_Searchable]] = {}

    # ---- validation -------------------------------------------------------------------------

    def _where(self) -> str:
        if len(self.kb.sources) == 1:
            source = next(iter(self.kb.sources.values()))
            return f"the source \u201c{source.title}\u201d"
        return "any source"

    def _locate(self, excerpt: str) -> tuple[str, str] | None:
        """(source id, location) of the first source holding `excerpt` verbatim."""
        for source_id, text in self.kb.texts.items():
            location = text.locate(excerpt)
            if location is not None:
                return source_id, location
        return None

    def _closest(self, excerpt: str) -> tuple[str, Passage] | None:
        best: tuple[str, Passage] | None = None
        for source_id, text in self.kb.texts.items():
            passage = text.closest_passage(excerpt)
            if best is None or passage.score > best[1].score:
                best = (source_id, passage)
        return best

    def build_entry(self, draft: EntryDraft, entry_id: str, *, previous: Entry | None = None) -> Entry:
        """The entry a draft describes, or DraftInvalid listing every problem.

        `previous` (when editing) keeps what the modal does not show: tags and linked
        entities. The modal has one speaker field, so a draft's speaker applies to every
        excerpt; but when `previous` had several different speakers (an imported entry) and the
        draft names none, each unchanged excerpt keeps its own speaker.
        """
        speaker = (draft.speaker or "").strip() or None
        problems = limit_problems(draft.questions, draft.answer, draft.excerpts, [speaker])
        closest: list[Passage | None] = [None] * len(draft.excerpts)
        kept_speakers: dict[str, str | None] = {}
        if previous is not None and speaker is None and len({c.speaker for c in previous.citations}) > 1:
            kept_speakers = {c.excerpt: c.speaker for c in previous.citations}
        citations: list[Citation] = []
        for n, excerpt in enumerate(draft.excerpts, start=1):
            if n > MAX_EXCERPTS or len(excerpt) > MAX_EXCERPT_CHARS:
                continue  # already reported; not worth the CPU of a closest-passage search
            text = " ".join(excerpt.split())
            found = self._locate(text)
            if found is None and (inner := _unquote(text)) is not None:
                # Pasted with quote marks around it: the inside is what stands in the source.
                found = self._locate(inner)
                text = inner if found is not None else text
            if found is None:
                near = self._closest(text)
                message = f"Excerpt {n} does not appear word for word in {self._where()}."
                if near is not None:
                    source_id, passage = near
                    closest[n - 1] = passage
                    of = "" if len(self.kb.texts) == 1 else f" of {source_id}"
                    message += f" {passage.suggestion(of)}"
                problems.append(message)
                continue
            source_id, location = found
            short = excerpt_too_short(self.kb.texts[source_id], text)
            if short is not None:
                problems.append(f"Excerpt {n} {short}.")
                continue
            who = speaker if speaker is not None else kept_speakers.get(text)
            citations.append(Citation(source=source_id, excerpt=text, speaker=who, location=location))
        if problems:
            raise DraftInvalid(problems, closest, draft)
        return Entry(
            id=entry_id,
            questions=list(draft.questions),
            answer=draft.answer.strip(),
            citations=citations,
            tags=list(previous.tags) if previous else [],
            entities=list(previous.entities) if previous else [],
        )

    async def unique_id(self, scope: Scope, text: str) -> str:
        """`slugify(text)`, suffixed -2, -3... until it is free in the scope and not a base id.

        Removed entries keep their id (they can be restored), so their ids count as taken.
        """
        stem = slugify(text)
        base_ids = self.base_ids
        for n in range(1, _MAX_ID_SUFFIX + 1):
            candidate = stem if n == 1 else f"{stem}-{n}"
            if candidate in base_ids:
                continue
            if await self.store.get_entry(scope, candidate, include_deleted=True) is None:
                return candidate
        raise ValueError(f"no free id for {stem!r}")  # pragma: no cover - needs 1000 entries alike

    # ---- writes -----------------------------------------------------------------------------

    async def create(self, scope: Scope, draft: EntryDraft, actor_id: int) -> StoredEntry:
        """Add a server entry from a draft; it answers in that server at once."""
        curation_scope(scope)
        entry = self.build_entry(draft, "entry")
        for _ in range(3):
            entry = entry.model_copy(update={"id": await self.unique_id(scope, draft.questions[0])})
            try:
                stored = await self.store.create_entry(scope, entry, actor_id, max_entries=self.max_entries)
            except EntryExists:
                continue  # another moderator took the id between our check and our write
            await self.service.upsert_entry_soon(scope, stored.entry)
            return stored
        raise EntryExists(entry.id)

    async def edit(
        self, scope: Scope, entry_id: str, draft: EntryDraft, actor_id: int, expected_version: int
    ) -> StoredEntry:
        """Replace an entry's content if nobody changed it since `expected_version`.

        Tags and linked entities are kept (see `build_entry` for speakers).
        """
        curation_scope(scope)
        # Checked before validation so a stale form is refused before its content is judged;
        # the store checks again inside its transaction, which is what makes it safe.
        current = await self.live_entry(scope, entry_id, expected_version)
        entry = self.build_entry(draft, entry_id, previous=current.entry)
        stored = await self.store.update_entry(scope, entry, actor_id, expected_version)
        await self.service.upsert_entry_soon(scope, stored.entry)
        return stored

    async def remove(
        self, scope: Scope, entry_id: str, actor_id: int, expected_version: int | None = None
    ) -> StoredEntry:
        """Remove an entry (kept in history, restorable with `revert`); it stops answering at once."""
        curation_scope(scope)
        stored = await self.store.remove_entry(scope, entry_id, actor_id, expected_version)
        self.service.remove_entry(scope, entry_id)
        return stored

    async def revert(self, scope: Scope, entry_id: str, version: int, actor_id: int) -> StoredEntry:
        """Make an old version current (restoring a removed entry, or removing if it was a removal).

        The old excerpts are checked against the sources as they are now: a version whose
        excerpts no longer stand verbatim raises DraftInvalid with its draft to fix.
        """
        curation_scope(scope)
        versions = await self.history(scope, entry_id)
        target = next((v for v in versions if v.version == version), None)
        if target is None:
            raise EntryNotFound(entry_id, f"Entry '{entry_id}' has no version {version}.")
        if target.entry is not None:
            self.build_entry(draft_of(target.entry), entry_id, previous=target.entry)
        stored = await self.store.revert(scope, entry_id, version, actor_id, max_entries=self.max_entries)
        if stored.deleted:
            self.service.remove_entry(scope, entry_id)
        else:
            await self.service.upsert_entry_soon(scope, stored.entry)
        return stored

    # ---- reads ------------------------------------------------------------------------------

    def _unknown(self, entry_id: str) -> EntryNotFound | ReadOnlyScope:
        """Why `entry_id` cannot be changed in a server that never had it."""
        if entry_id in self.base_ids:
            return ReadOnlyScope(
                f"'{entry_id}' belongs to the curated knowledge base, which is read-only here (it "
                "changes only through the knowledge files). Add a server entry instead."
            )
        return EntryNotFound(entry_id)

    async def live_entry(
        self, scope: Scope, entry_id: str, expected_version: int | None = None
    ) -> StoredEntry:
        """The entry as it is now, to edit or remove: EntryNotFound if the scope never had it or
        it was removed, ReadOnlyScope if the id is the curated base's, VersionConflict if it is
        no longer at `expected_version` (the rule the store's writes apply: `require_live`)."""
        current = await self.store.get_entry(scope, entry_id, include_deleted=True)
        if current is None:
            raise self._unknown(entry_id)
        return require_live(entry_id, current, expected_version)

    async def history(self, scope: Scope, entry_id: str) -> list[EntryVersion]:
        """Every version, oldest first; EntryNotFound (ReadOnlyScope for a base id) if the id
        never existed in the scope."""
        versions = await self.store.history(scope, entry_id)
        if not versions:
            raise self._unknown(entry_id)
        return versions

    async def list_entries(
        self, scope: Scope, query: str | None = None, *, include_removed: bool = False
    ) -> list[StoredEntry]:
        """Live entries of exactly this scope; with a query, the matching ones, best first.

        Substring matches (id, a phrasing or the answer) come first, by id; then fuzzy
        matches on id and phrasings, best first.
        """
        entries = await self.store.active_entries(scope, include_removed=include_removed)
        if not (query or "").strip():
            return entries
        # Fuzzy matching over a full server is tens of milliseconds of CPU: off the event loop.
        return await run_heavy(_matching_entries, entries, query or "")

    async def entry_ids_for_autocomplete(
        self, scope: Scope, text: str, limit: int = 25, *, include_removed: bool = False
    ) -> list[tuple[str, str]]:
        """(id, label) pairs for a Discord choice list; label = "id — first phrasing".

        `include_removed` offers soft-removed entries too (marked), for history and revert.
        Labels are not cut to Discord's 100 characters here (that limit lives with the adapter).
        Reads only ids, phrasings and answers (not whole entries), and matches off the event
        loop: a server of hundreds of large entries costs its own moderators, not everyone.
        """
        searchable = await self._searchable(scope, include_removed)
        return await run_heavy(_autocomplete_pairs, searchable, text, limit)

    async def _searchable(self, scope: Scope, include_removed: bool) -> _Searchable:
        """The server's summaries, prepared once per change of the server (not per keystroke);
        concurrent searches of one server share one preparation."""
        key = (scope, include_removed)
        version = (await self.store.scope_versions([scope])).get(scope, 0)
        cached = self._searchables.get(key)
        if cached is not None and cached.version == version:
            self._searchables.move_to_end(key)
            return cached
        building = self._building.get((*key, version))
        if building is None:
            building = asyncio.create_task(self._prepare(scope, include_removed, version))
            self._building[(*key, version)] = building
            building.add_done_callback(lambda _: self._building.pop((*key, version), None))
        # Shielded: one moderator giving up does not cancel the others' preparation.
        searchable = await asyncio.shield(building)
        self._searchables[key] = searchable
        self._searchables.move_to_end(key)
        while len(self._searchables) > SEARCHABLE_SERVERS:
            self._searchables.popitem(last=False)
        return searchable

    async def _prepare(self, scope: Scope, include_removed: bool, version: int) -> _Searchable:
        rows = await self.store.entry_summaries(scope, include_removed=include_removed)
        return await run_heavy(_searchable, version, rows)

    # ---- export / import --------------------------------------------------------------------

    async def export(self, scope: Scope) -> Export:
        """The scope's live entries in the `knowledge/entries/*.yaml` format, sorted by id."""
        entries = sorted(await self.store.active_entries(scope), key=lambda s: s.id)
        # Dumping a full server is CPU work: off the event loop, like parsing an import.
        text = await run_heavy(dump_yaml, {"entries": [_export_item(s.entry) for s in entries]})
        return Export(text, len(entries))

    def parse_import(self, data: bytes) -> list[Entry]:
        """Validate an import file completely; the entries, or ImportInvalid with every problem.

        CPU-bound (YAML parsing); `import_yaml` runs it in a worker thread.
        """
        _check_size(data)
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportInvalid(
                [f"The file is not UTF-8 text (invalid byte at position {exc.start}); save it as UTF-8."]
            ) from None
        try:
            parsed = load_yaml(text)
        except YamlError as exc:
            raise ImportInvalid([exc.described("The file is not valid YAML")]) from None
        raw: list[Problem] = []
        entries = parse_items(parsed, "entries", Entry, "import", raw)
        problems = [_entry_message(p) for p in raw]
        if isinstance(parsed, dict) and isinstance(parsed.get("entries"), list):
            ids = [item.get("id") for item in parsed["entries"] if isinstance(item, dict)]
            counts = Counter(i for i in ids if isinstance(i, str))
            for entry_id, n in counts.items():
                if n > 1:
                    problems.append(f"entry {entry_id!r}: the id is listed {n} times in the file.")
        entity_ids = {e.id for e in self.kb.entities}
        base_ids = self.base_ids
        located: list[Entry] = []
        for entry in entries:
            label = f"entry {entry.id!r}"
            if entry.id in base_ids:
                problems.append(f"{label}: the id is used by the curated knowledge base; choose another id.")
            unknown = [e for e in entry.entities if e not in entity_ids]
            if unknown:
                listed = human_join(map(repr, unknown))
                problems.append(f"{label}: {plural(len(unknown), 'unknown entity id')}: {listed}.")
            excerpts = [c.excerpt for c in entry.citations]
            for message in limit_problems(
                entry.questions, entry.answer, excerpts, (c.speaker for c in entry.citations)
            ) + list_limit_problems(entry.tags, entry.entities):
                problems.append(f"{label}: {message}")
            cit_problems: list[Problem] = []
            citations = check_citations(
                entry.citations, self.kb.texts, "import", f"id={entry.id!r}", cit_problems
            )
            problems.extend(_entry_message(p) for p in cit_problems)
            located.append(entry.model_copy(update={"citations": citations}))
        if problems:
            raise ImportInvalid(problems)
        return located

    async def import_yaml(self, scope: Scope, data: bytes, actor_id: int) -> ImportReport:
        """Add or update a server's entries from a file, all or nothing.

        Every entry is validated first; if anything is wrong, ImportInvalid lists every problem
        and nothing changes. Ids in the file are kept; a removed id is restored.
        """
        curation_scope(scope)
        _check_size(data)  # before any work on a huge buffer
        entries = await run_heavy(self.parse_import, data)
        current = {s.id for s in await self.store.active_entries(scope)}
        total = len(current | {e.id for e in entries})
        if total > self.max_entries:
            raise ImportInvalid(
                [f"The import would give this server {total} entries; the limit is {self.max_entries}."]
            )
        added, updated = await self.store.import_entries(
            scope, entries, actor_id, max_entries=self.max_entries
        )
        for entry in entries:
            await self.service.upsert_entry_soon(scope, entry)
            await asyncio.sleep(0)  # one entry at a time: other servers' answers go in between
        # The new index entries are long-lived, like those built at start-up: out of the
        # collector's full passes (which grow with the index), after a cheap young collection.
        gc.collect(1)
        gc.freeze()
        return ImportReport(added=added, updated=updated, unchanged=len(entries) - added - updated)

    # ---- reports ----------------------------------------------------------------------------

    def _since(self, days: int | None) -> datetime | None:
        if days is None:
            return None
        if days < 1:
            raise ValueError("days must be at least 1")
        return self._clock() - timedelta(days=days)

    async def gaps(self, scope: Scope, days: int | None = None, *, limit: int = 25) -> list[Gap]:
        """Unanswered questions of the period, similar ones grouped, the most asked group first."""
        await self.assistant.questions.flush(QUESTION_LOG_CLOSE_SECONDS)  # include what was just asked
        stats = await self.store.unanswered_questions(scope, self._since(days), limit=GAP_SCAN_LIMIT)
        rows = [(s.question, s.count, s.last_asked) for s in stats]
        groups = await run_heavy(group_questions, rows)
        return groups[: max(0, limit)]

    async def stats(self, scope: Scope, days: int | None = None) -> ScopeStats:
        await self.assistant.questions.flush(QUESTION_LOG_CLOSE_SECONDS)
        stats = await self.store.guild_stats(scope, self._since(days))
        rate = stats.answered / stats.asked if stats.asked else None
        return ScopeStats(stats=stats, answered_rate=rate, days=days)

    async def require_room(self, scope: Scope) -> None:
        """LimitExceeded if the server already holds its maximum, checked before a moderator
        starts writing an entry that could not be saved."""
        count = await self.store.count_entries(scope)
        if count >= self.max_entries:
            raise LimitExceeded(
                f"This server has {plural(count, 'entry')}; the limit is {self.max_entries}. "
                "Remove one before adding another.",
                limit=self.max_entries,
            )

    # ---- who may curate ---------------------------------------------------------------------

    async def may_curate(self, scope: int, *, manage_guild: bool, role_ids: Collection[int]) -> bool:
        """`bot.core.permissions.can_curate` with this server's moderator role (read only when
        the member does not manage the server)."""
        if manage_guild:
            return True
        return can_curate(
            manage_guild=False,
            role_ids=role_ids,
            configured_role_id=await self.moderator_role(scope),
            fallback_role_id=self.assistant.settings.moderator_role_id,
        )

    async def moderator_role(self, scope: int) -> int | None:
        """The role this server chose for its curators (None: it chose none)."""
        return await self.store.get_moderator_role(curation_scope(scope))

    async def set_moderator_role(self, scope: int, role_id: int | None, actor_id: int) -> None:
        """Choose (or, with None, forget) the role whose members may curate this server."""
        await self.store.set_moderator_role(curation_scope(scope), role_id, actor_id)


__all__ = [
    "MAX_SPEAKER_CHARS",
    "CurationError",
    "CurationService",
    "DraftInvalid",
    "Export",
    "Gap",
    "ImportInvalid",
    "ImportReport",
    "ScopeStats",
    "describe_change",
    "describe_history",
    "draft_from_text",
    "draft_of",
    "draft_text",
    "group_questions",
    "limit_problems",
    "slugify",
]
