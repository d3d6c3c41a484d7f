"""Loading the numbered SQL migrations of one engine (see `bot.core.migrations`)."""

from __future__ import annotations

import re
import sqlite3
from importlib import resources
from typing import Final, Literal

from bot.core.store.models import Migration

Engine = Literal["sqlite", "postgresql"]

_PACKAGE: Final = "bot.core.migrations"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


def load_migrations(engine: Engine = "sqlite") -> list[Migration]:
    """The packaged migrations of `engine`, in order; a gap or a duplicate is a packaging error."""
    found: list[Migration] = []
    for item in resources.files(_PACKAGE).joinpath(engine).iterdir():
        match = _NAME.match(item.name)
        if match and item.is_file():
            found.append(Migration(int(match.group(1)), match.group(2), item.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    for expected, migration in enumerate(found, start=1):
        if migration.version != expected:
            raise RuntimeError(f"migrations must be numbered 1, 2, 3...; found {migration.version:04d}")
    return found


def split_sql(script: str) -> list[str]:
    """Split an SQLite migration into statements (executescript would commit mid-transaction)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in buffer.splitlines()
    ):
        raise ValueError(f"incomplete SQL statement at the end of a migration: {buffer.strip()[:80]!r}")
    return statements
