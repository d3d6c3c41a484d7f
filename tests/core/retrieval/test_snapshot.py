"""The engine finds exactly what it found when `tests/data/retrieval_snapshot.json` was written.

Speed-ups of retrieval must not change a single result: the same documents, the same scores to
the last bit, the same candidates, in the curated base, a large server and the article's
sentences. The snapshot freezes its own inputs (see `tests.core.retrieval.snapshot`), so edits
to the knowledge base or the default weights do not make this fail; a change of the engine does.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.loader import KnowledgeBase
from tests.core.retrieval import snapshot


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    data = snapshot.load()
    written, running = {k: data["meta"][k] for k in snapshot.versions()}, snapshot.versions()
    if written != running:
        # The last bit of a float may differ with another Python or rapidfuzz, whatever the engine.
        pytest.skip(f"snapshot written with {written}, running {running}: regenerate it with the old engine")
    return data


@pytest.fixture(scope="module")
def engines(recorded: dict[str, Any], kb: KnowledgeBase) -> snapshot.Engines:
    return snapshot.build(recorded["inputs"], kb)


def _differences(questions: list[str], expected: list[Any], found: list[Any]) -> list[str]:
    assert len(expected) == len(found) == len(questions)
    return [
        f"{question!r}: expected {want}, found {got}"
        for question, want, got in zip(questions, expected, found, strict=True)
        if want != got
    ]


@pytest.mark.parametrize("part", ["base", "server", "passages"])
def test_every_question_finds_what_it_found_before(
    part: str, recorded: dict[str, Any], engines: snapshot.Engines
) -> None:
    engine = engines.passages if part == "passages" else engines.base
    scope = snapshot.SERVER if part == "server" else None
    questions = engines.server_questions if part == "server" else engines.base_questions
    found = [snapshot.findings(engine, q, scope) for q in questions]
    differences = _differences(questions, recorded["expected"][part], found)
    assert not differences, f"{len(differences)} of {len(questions)} differ:\n" + "\n".join(differences[:20])


def test_autocomplete_suggests_what_it_suggested_before(
    recorded: dict[str, Any], engines: snapshot.Engines
) -> None:
    found = snapshot.record_autocomplete(engines)
    differences = _differences(engines.prefixes, recorded["expected"]["autocomplete"], found)
    assert not differences, "\n".join(differences[:20])


def test_the_snapshot_asks_enough_questions(recorded: dict[str, Any], engines: snapshot.Engines) -> None:
    assert len(engines.base_questions) >= 1_000
    assert len(engines.server_questions) > len(engines.base_questions)
    assert len(engines.base.index_of(snapshot.SERVER).docs) == snapshot.SERVER_SIZE
    assert engines.base.index_of(snapshot.SERVER).dense, "the server should be large enough for bitsets"
