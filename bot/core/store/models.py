"""What the store returns, and the engine-neutral rows its two engines exchange with the
shared write logic."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.core.models import Entry, Scope
from bot.core.store.common import api_scope, canonical_json, content_hash

log = logging.getLogger(__name__)

Action = Literal["seed", "create", "edit", "remove", "revert", "import"]
Origin = Literal["file", "discord"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class StoredEntry(_Model):
    scope: Scope
    entry: Entry
    version: int
    deleted: bool
    origin: str
    updated_at: datetime
    updated_by: int | None

    @property
    def id(self) -> str:
        return self.entry.id


@dataclass(frozen=True)
class EntrySummary:
    """What a search over a server's entries needs: far lighter than a whole `StoredEntry`."""

    id: str
    deleted: bool
    updated_at: str
    questions: list[str]
    answer: str


class EntryVersion(_Model):
    scope: Scope
    entry_id: str
    version: int
    action: str
    #: The entry's content after the change; None for a removal.
    entry: Entry | None
    actor_id: int | None
    at: datetime
    note: str | None


class SeedReport(_Model):
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0


class QuestionStat(_Model):
    #: The most recent phrasing as asked (the group key is its lower-cased, whitespace-folded form).
    question: str
    count: int
    last_asked: datetime


class GuildStats(_Model):
    asked: int
    answered: int
    #: (entry id, times answered with it), most used first.
    top_entries: list[tuple[str, int]]
    helpful: int
    not_helpful: int


@dataclass(frozen=True)
class LoggedQuestion:
    """One asked question for the log, with the id it was given when it was answered."""

    id: int
    scope: Scope
    channel_id: int | None
    user_id: int | None
    question: str
    answered: bool
    entry_id: str | None
    confidence: float
    at: datetime


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


# --------------------------------------------------------------------------------------------
# Rows exchanged between the shared write logic and an engine (database scopes: 0 is the base).
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryRow:
    """The current row of one entry, as either engine stores it."""

    scope: int
    id: str
    version: int
    #: Canonical JSON of the entry (its last content, even when deleted).
    data: str
    content_hash: str
    deleted: bool
    origin: str
    updated_at: datetime
    updated_by: int | None

    def same_content(self, entry: Entry) -> bool:
        return self.content_hash == content_hash(canonical_json(entry))

    def stored(self) -> StoredEntry:
        return StoredEntry(
            scope=api_scope(self.scope),
            entry=Entry.model_validate_json(self.data),
            version=self.version,
            deleted=self.deleted,
            origin=self.origin,
            updated_at=self.updated_at,
            updated_by=self.updated_by,
        )


@dataclass(frozen=True)
class VersionRow:
    """One history row: the entry's content after a change (None for a removal)."""

    scope: int
    id: str
    version: int
    action: Action
    data: str | None
    actor_id: int | None
    at: datetime
    note: str | None

    def entry_version(self) -> EntryVersion:
        return EntryVersion(
            scope=api_scope(self.scope),
            entry_id=self.id,
            version=self.version,
            action=self.action,
            entry=None if self.data is None else Entry.model_validate_json(self.data),
            actor_id=self.actor_id,
            at=self.at,
            note=self.note,
        )


def stored_entries(rows: Iterable[EntryRow]) -> list[StoredEntry]:
    """Rows as entries; a row whose data no longer parses is skipped with a warning naming it,
    so one damaged row cannot take the rest of the server (or the start-up) with it."""
    out: list[StoredEntry] = []
    for row in rows:
        try:
            out.append(row.stored())
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            log.warning(
                "skipping damaged entry %r of scope %s in the database: %s",
                row.id,
                row.scope,
                " ".join(str(exc).split())[:200],
            )
    return out


def summary(
    entry_id: str, deleted: bool, updated_at: str, questions_json: str | None, answer: str | None
) -> EntrySummary | None:
    """A search summary from the JSON the database extracted; None for a damaged row."""
    try:
        questions = json.loads(questions_json or "[]")
    except ValueError:
        return None  # a damaged row: `active_entries` names it
    if not isinstance(questions, list):
        return None
    return EntrySummary(
        id=entry_id,
        deleted=deleted,
        updated_at=updated_at,
        questions=[str(q) for q in questions],
        answer=str(answer or ""),
    )
