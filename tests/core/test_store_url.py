"""`BOT_DATABASE` as a PostgreSQL URL: kept whole for the driver, never printed with its password."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.store import PostgresUrl, is_postgres_url
from bot.core.store.url import redact
from bot.settings import Settings

NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
HOSTS = st.sampled_from(["db.example", "127.0.0.1", "[::1]", ""])
#: Anything a password in an environment variable can hold (no lone surrogates).
PASSWORDS = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=40)


@given(user=NAMES, password=PASSWORDS, host=HOSTS, db=NAMES)
def test_the_password_is_masked_whatever_it_holds(user: str, password: str, host: str, db: str) -> None:
    url = f"postgresql://{user}:{quote(password, safe='')}@{host}:5432/{db}"
    shown = redact(url)
    assert shown == f"postgresql://{user}:***@{host}:5432/{db}"
    wrapped = PostgresUrl(url)
    assert wrapped.dsn() == url  # the driver gets it whole
    assert str(wrapped) == shown and shown in repr(wrapped)


@given(password=PASSWORDS)
def test_a_password_parameter_is_masked(password: str) -> None:
    url = f"postgresql:///meeting?host=/run/postgresql&password={quote(password, safe='')}"
    shown = redact(url)
    assert "password=%2A%2A%2A" in shown or "password=***" in shown
    assert "host=/run/postgresql" in shown


@pytest.mark.parametrize(
    ("value", "postgres"),
    [
        ("postgresql://u:p@h:5432/d", True),
        ("postgres://u:p@h/d", True),
        ("POSTGRESQL://u@h/d", True),
        ("postgresql://postgres:@/postgres?host=/tmp/x", True),
        ("/var/lib/bot.sqlite3", False),
        ("postgresql.sqlite3", False),
        ("sqlite:///x.db", False),
    ],
)
def test_what_counts_as_a_postgres_url(value: str, postgres: bool) -> None:
    assert is_postgres_url(value) is postgres


def test_settings_keep_a_url_a_url_and_a_path_a_path() -> None:
    url = Settings(database="postgresql://bot:hunter2hunter2@db:5432/meeting").database
    assert isinstance(url, PostgresUrl) and url.dsn().endswith("@db:5432/meeting")
    assert "hunter2hunter2" not in str(url) and "hunter2hunter2" not in repr(Settings(database=url))
    socket = Settings(database="postgresql://postgres:@/postgres?host=/tmp/pg").database
    assert isinstance(socket, PostgresUrl) and socket.dsn() == "postgresql://postgres:@/postgres?host=/tmp/pg"
    path = Settings(database="data/bot.sqlite3").database
    assert path == Path("data/bot.sqlite3")
