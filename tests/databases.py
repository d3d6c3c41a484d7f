"""The databases tests run on: an SQLite file, or a fresh database on one real PostgreSQL.

One PostgreSQL server (pgserver: a real PostgreSQL 16 in a temporary directory, no Docker) is
started lazily, at most once per test session, and removed when the session ends; every test
that asks gets a database of its own on it. Where it cannot start, the tests that need it are
skipped with the reason.

`BOT_TEST_STORE=postgresql` runs every store-backed test of the suite (the end-to-end ones
included) on PostgreSQL instead of SQLite.
"""

from __future__ import annotations

import itertools
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Literal

import pytest

Engine = Literal["sqlite", "postgresql"]
ENGINES: tuple[Engine, ...] = ("sqlite", "postgresql")

_lock = threading.Lock()
_server: Any = None
_failure: str | None = None
_names = itertools.count(1)


def default_engine() -> Engine:
    """The engine of the suite's store-backed tests (`BOT_TEST_STORE`, SQLite by default)."""
    value = os.environ.get("BOT_TEST_STORE", "sqlite").strip().lower()
    if value in ("postgres", "postgresql"):
        return "postgresql"
    if value not in ("", "sqlite"):
        raise pytest.UsageError(f"BOT_TEST_STORE must be sqlite or postgresql, not {value!r}")
    return "sqlite"


def _start() -> Any:
    global _server, _failure
    with _lock:
        if _server is not None or _failure is not None:
            return _server
        # pgserver logs every pg_ctl command line; a handler another test left on the root
        # logger (bound to a closed capture stream) would turn those into "Logging error"s.
        quiet = logging.getLogger("pgserver")
        quiet.propagate = False
        quiet.addHandler(logging.NullHandler())
        try:
            import pgserver

            root = Path(tempfile.mkdtemp(prefix="meeting-bot-pg-"))
            _server = pgserver.get_server(root, cleanup_mode="delete")
        except Exception as exc:  # any reason it cannot start here is a reason to skip
            _failure = f"PostgreSQL (pgserver) cannot start here: {type(exc).__name__}: {exc}"
            return None
        return _server


def postgres_skip_reason() -> str | None:
    _start()
    return _failure


def fresh_postgres_url() -> str:
    """A new, empty database on the session's server; skips the test if there is none."""
    server = _start()
    if server is None:
        pytest.skip(_failure or "PostgreSQL cannot start here")
    name = f"t{os.getpid()}_{next(_names)}"
    server.psql(f"CREATE DATABASE {name};")
    return str(server.get_uri(name))


def fresh_database(tmp_path: Path, engine: Engine | None = None, name: str = "bot.sqlite3") -> Path | str:
    """A fresh database of `engine` (the suite's engine by default): a file path or a URL."""
    if (engine or default_engine()) == "postgresql":
        return fresh_postgres_url()
    return tmp_path / name


def run_psql(sql: str) -> str:
    server = _start()
    if server is None:
        pytest.skip(_failure or "PostgreSQL cannot start here")
    return str(server.psql(sql))


__all__ = [
    "ENGINES",
    "Engine",
    "default_engine",
    "fresh_database",
    "fresh_postgres_url",
    "postgres_skip_reason",
    "run_psql",
    "stop_postgres",
]


def stop_postgres() -> None:
    """Stop and remove the session's server (while logging still works, unlike at exit)."""
    global _server
    with _lock:
        server, _server = _server, None
    if server is not None:
        server.cleanup()
