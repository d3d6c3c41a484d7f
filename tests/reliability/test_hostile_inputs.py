"""Fuzzing the paths the CLI and Discord really use.

- Questions of all of Unicode, lone surrogates included, through `Assistant.ask`: the answer,
  its JSON contract and the question log (written behind the answer) all survive.
- `python -m bot ask --jsonl` fed random bytes: one JSON answer per line, to the end.
- YAML structures (dates, impossible dates, huge integers, deep nesting, odd types and tags)
  through an import and through the knowledge loader: a listed problem or a result, nothing else.
- Memory over 20,000 questions of random made-up words, through `Assistant.ask`: bounded.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import string
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml
from hypothesis import given, seed
from hypothesis import strategies as st

from bot.core.assistant import Assistant
from bot.core.curation import CurationService, ImportInvalid
from bot.core.limits import MAX_YAML_DEPTH
from bot.core.loader import KnowledgeError, load_knowledge
from bot.settings import PROJECT_ROOT, Settings
from tests.conftest import KNOWLEDGE
from tests.reliability.conftest import METRICS, ReliabilityMetrics
from tests.reliability.helpers import fuzz

pytestmark = pytest.mark.reliability
#: The async tests share one Assistant (and so one event loop) for the module.
one_loop = pytest.mark.asyncio(loop_scope="module")

SEED = METRICS.seed
GUILD = 111_111_111_111_111_111


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def assistant(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Assistant]:
    started = await Assistant.start(Settings(database=tmp_path_factory.mktemp("fuzz") / "db.sqlite3"))
    try:
        yield started
    finally:
        await started.close()


# ---- questions of all of Unicode ---------------------------------------------------------------

#: Every code point, surrogates (category Cs) included: what a JSON "\\ud800" escape or
#: undecodable command-line bytes (surrogateescape) hand the bot.
ANY_CHAR = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=())
QUESTIONS = st.one_of(
    st.text(ANY_CHAR, max_size=80),
    st.builds(
        lambda a, b: a + " who attended the meeting " + b,
        st.text(ANY_CHAR, max_size=10),
        st.text(ANY_CHAR, max_size=10),
    ),
    st.text(st.sampled_from(["\ud800", "\udfff", "\udcff", "\ud83d", "\ude00", "a", " ", "?"]), max_size=30),
)


@one_loop
@seed(SEED)
@fuzz(400)
@given(question=QUESTIONS, scope=st.sampled_from([None, GUILD]))
async def test_any_unicode_through_assistant_ask_and_its_log(
    assistant: Assistant, reliability_metrics: ReliabilityMetrics, question: str, scope: int | None
) -> None:
    written, dropped = assistant.questions.written, assistant.questions.dropped
    result = await assistant.ask(question, scope, channel_id=1, user_id=2)
    reliability_metrics.ask_fuzz_examples += 1
    answer = result.answer
    text = json.dumps(answer.contract(), ensure_ascii=False)
    text.encode("utf-8")  # strict: no lone surrogate anywhere in the contract
    assert result.question_id is not None
    assert await assistant.questions.flush(10)
    assert assistant.questions.dropped == dropped, "the log dropped a fuzzed question"
    assert assistant.questions.written == written + 1


def test_jsonl_with_random_bytes_answers_every_line(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    lines = [
        bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60))).replace(b"\n", b" ") for _ in range(60)
    ]
    lines[::7] = [b"who attended the meeting? \xff\xfe" for _ in lines[::7]]
    env = {
        "BOT_DATABASE": str(tmp_path / "db.sqlite3"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "PYTHONIOENCODING": "utf-8",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--jsonl"],
        input=b"\n".join(lines) + b"\n",
        capture_output=True,
        cwd=tmp_path,
        env={**__import__("os").environ, **env},
        timeout=120,
    )
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    answers = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert len(answers) == len(lines)
    assert all(a["answered"] for a in answers[::7])
    METRICS.ask_fuzz_examples += len(lines)


# ---- YAML structures -----------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(min_value=dt.date(1, 1, 1)),
    st.sampled_from(
        ["2023-01-11", "article", "who attended", "attended by U.S. Secretary of State Antony J. Blinken"]
    ),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=30,
)
FIELDS = [
    "id",
    "questions",
    "answer",
    "citations",
    "tags",
    "entities",
    "answers",
    "source",
    "excerpt",
    "speaker",
]
ENTRY_LIKE = st.fixed_dictionaries({}, optional={f: VALUES for f in FIELDS})
#: Raw YAML that no Python value dumps to: what the issue's reproductions used.
RAW = st.sampled_from(
    [
        "2023-02-30",
        "9" * 5000,
        "-" + "7" * 4400,
        "!!float abc",
        "!!timestamp x",
        "!!binary zz",
        "!!set {a, b}",
        "!!python/object:os.system x",
        "&a [1, *a]",
        "[" * 2000 + "]" * 2000,
        "{" * (MAX_YAML_DEPTH + 1) + "}" * (MAX_YAML_DEPTH + 1),
        ".nan",
        "1e99999",
        "0x" + "f" * 300,
        "'\\ud800'",
        '"\\ud800 lone"',
    ]
)


def yaml_document(entries: list[dict[str, Any]], raw: list[tuple[int, str]]) -> str:
    try:
        text = yaml.safe_dump({"entries": entries}, allow_unicode=True)
    except (ValueError, yaml.YAMLError):
        text = "entries: []\n"
    for n, snippet in raw:
        text += f"# {n}\nextra{n}: {snippet}\n" if n % 2 else f"\nentries2:\n  - id: {snippet}\n"
    return text


DOCUMENTS = st.builds(
    yaml_document,
    st.lists(ENTRY_LIKE, max_size=4),
    st.lists(st.tuples(st.integers(0, 9), RAW), max_size=2),
)


@pytest.fixture(scope="module")
def kb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import shutil

    root = tmp_path_factory.mktemp("yamlfuzz") / "knowledge"
    shutil.copytree(KNOWLEDGE, root)
    return root


@one_loop
@seed(SEED)
@fuzz(300)
@given(document=DOCUMENTS)
async def test_yaml_structures_through_import(
    assistant: Assistant, reliability_metrics: ReliabilityMetrics, document: str
) -> None:
    curation = CurationService(assistant, max_entries_per_guild=500)
    reliability_metrics.yaml_fuzz_examples += 1
    try:
        curation.parse_import(document.encode("utf-8", "surrogatepass"))
    except ImportInvalid as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)


@seed(SEED)
@fuzz(150)
@given(document=DOCUMENTS)
def test_yaml_structures_through_the_knowledge_loader(
    kb_dir: Path, reliability_metrics: ReliabilityMetrics, document: str
) -> None:
    reliability_metrics.yaml_fuzz_examples += 1
    target = kb_dir / "entries" / "zz-fuzz.yaml"
    target.write_bytes(document.encode("utf-8", "surrogatepass"))
    try:
        load_knowledge(kb_dir)
    except KnowledgeError as exc:
        assert exc.problems
    finally:
        target.unlink()


# ---- memory over 20,000 questions of made-up words -----------------------------------------------

MEMORY_QUESTIONS = 20_000
MEMORY_LIMIT_MIB = 15.0


def rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * __import__("os").sysconf("SC_PAGE_SIZE") / (1024 * 1024)


@one_loop
async def test_memory_stays_bounded_over_20000_questions_of_random_words(
    assistant: Assistant, reliability_metrics: ReliabilityMetrics
) -> None:
    rng = random.Random(SEED)

    def word() -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randrange(5, 11)))

    async def batch(n: int) -> None:
        for _ in range(n):
            question = f"what did {word()} say about {word()} and {word()}?"
            await assistant.ask(question, GUILD if rng.random() < 0.5 else None, channel_id=1, user_id=2)
        await assistant.questions.flush(30)

    await batch(2_000)  # warm up: caches fill to their bounds, allocator settles
    import gc

    gc.collect()
    before = rss_mib()
    await batch(MEMORY_QUESTIONS)
    gc.collect()
    growth = rss_mib() - before
    reliability_metrics.memory_growth_mib = growth
    reliability_metrics.memory_questions = MEMORY_QUESTIONS
    print(f"memory: +{growth:.1f} MiB over {MEMORY_QUESTIONS} questions of random words")
    assert growth <= MEMORY_LIMIT_MIB, f"resident memory grew {growth:.1f} MiB"
    assert assistant.questions.dropped == 0
    await asyncio.sleep(0)
