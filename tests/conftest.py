"""Shared fixtures: the real knowledge base, and small throwaway ones for error cases."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.answers import AnswerService
from bot.core.loader import KnowledgeBase, load_knowledge
from bot.settings import PROJECT_ROOT

KNOWLEDGE = PROJECT_ROOT / "knowledge"
ARTICLE = KNOWLEDGE / "sources" / "article.txt"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge(KNOWLEDGE)


@pytest.fixture(scope="session")
def service(kb: KnowledgeBase) -> AnswerService:
    return AnswerService(kb)


KbFactory = Callable[..., Path]


@pytest.fixture
def make_kb(tmp_path: Path) -> KbFactory:
    """Write a small knowledge directory: the real source plus the given YAML documents."""

    def factory(
        entries: dict[str, Any] | None = None,
        quotes: Any = None,
        entities: Any = None,
        raw_files: dict[str, str] | None = None,
    ) -> Path:
        root = tmp_path / "knowledge"
        (root / "entries").mkdir(parents=True, exist_ok=True)
        shutil.copytree(KNOWLEDGE / "sources", root / "sources", dirs_exist_ok=True)
        if entities is not None:
            (root / "entities.yaml").write_text(yaml.safe_dump({"entities": entities}), encoding="utf-8")
        if quotes is not None:
            (root / "quotes.yaml").write_text(yaml.safe_dump({"quotes": quotes}), encoding="utf-8")
        for name, items in (entries or {}).items():
            (root / "entries" / name).write_text(yaml.safe_dump({"entries": items}), encoding="utf-8")
        for name, text in (raw_files or {}).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return root

    return factory


def entry(id: str = "e1", **over: Any) -> dict[str, Any]:
    """A valid entry document, with fields overridden."""
    base: dict[str, Any] = {
        "id": id,
        "questions": ["Who attended the meeting?"],
        "answer": "Four ministers.",
        "citations": [
            {"source": "article", "excerpt": "attended by U.S. Secretary of State Antony J. Blinken"}
        ],
        "answers": ["person"],
    }
    base.update(over)
    return base


def run_cli(
    tmp_path: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m bot ARGS` as a real subprocess, on a throwaway database."""
    full_env = {
        **os.environ,
        "BOT_DATABASE": str(tmp_path / "db.sqlite3"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONIOENCODING": "utf-8",
        **(env or {}),
    }
    # cwd is tmp_path so that no developer's .env leaks into the test.
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


@pytest.fixture(scope="session")
def postgres_url_factory() -> Callable[[], str]:
    """Fresh databases on the session's one real PostgreSQL; skips (with the reason) where it
    cannot start."""
    from tests.databases import fresh_postgres_url, postgres_skip_reason

    reason = postgres_skip_reason()
    if reason is not None:
        pytest.skip(reason)
    return fresh_postgres_url


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from tests.databases import stop_postgres

    stop_postgres()
