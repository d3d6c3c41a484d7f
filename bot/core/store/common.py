"""Boundary helpers both engines share: scope mapping, canonical JSON, time."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Final

from bot.core.models import Entry, Scope
from bot.core.store.errors import ReadOnlyScope
from bot.core.text import normalize_verbatim

#: The database value of the curated global base (`Scope` None): engines treat NULLs as
#: distinct in keys, and a Discord id is never 0.
BASE_SCOPE: Final = 0


def db_scope(scope: Scope) -> int:
    if scope is None:
        return BASE_SCOPE
    if scope == BASE_SCOPE:
        raise ValueError("scope 0 is reserved for the global base; pass None for it")
    return scope


def api_scope(value: int) -> Scope:
    return None if value == BASE_SCOPE else value


def curation_scope(scope: Scope) -> int:
    """The database scope of a curation write; the base (None or 0) is refused.

    The one scope guard of the curation path: the service and the adapters rely on it."""
    if scope is None or scope == BASE_SCOPE:
        raise ReadOnlyScope()
    return scope


def canonical_json(entry: Entry) -> str:
    """The stable JSON form of an entry: what is stored and what the content hash covers."""
    return json.dumps(
        entry.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def content_hash(entry_json: str) -> str:
    return hashlib.sha256(entry_json.encode("utf-8")).hexdigest()


def normalize_logged_question(question: str) -> str:
    """The grouping key of the question log: lower case, whitespace and typography folded."""
    return normalize_verbatim(question).casefold()


def utc_now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """A naive datetime is read as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
