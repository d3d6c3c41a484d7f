"""A frozen record of what the engine finds, to prove a speed-up changes no result.

`tests/data/retrieval_snapshot.json` holds everything the engine reads (weights, entities,
synonyms, the curated base's and the article fallback's documents, as they were when it was
written) and what the engine then found for a fixed list of questions: in the curated base,
in a large synthetic server (rebuilt here from `benchmarks.synthetic`, deterministically), and
in the article's sentences. The inputs are frozen so that editing the knowledge base or the
default weights does not touch this record: it changes only when the engine's code does.

Regenerate it (`python -m tests.core.retrieval.snapshot`) only for a change that is meant to
change results, never to make a speed-up pass: a pure speed-up must reproduce it bit for bit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import rapidfuzz

from benchmarks.synthetic import aimed_questions, base_mix, iter_entries, typing_prefixes
from bot.core.documents import Document, decline_document, entry_document, quote_document
from bot.core.entities import EntityLexicon
from bot.core.fallback import ArticleFallback
from bot.core.loader import KnowledgeBase, load_knowledge
from bot.core.models import Entity, Entry, Scope
from bot.core.retrieval import DEFAULT_WEIGHTS, Match, QueryAnalysis, RetrievalEngine, Weights
from bot.settings import PROJECT_ROOT

SNAPSHOT = PROJECT_ROOT / "tests" / "data" / "retrieval_snapshot.json"
EVAL = PROJECT_ROOT / "tests" / "data" / "eval"
#: The synthetic server: large enough that common terms use bitsets and ties reach TIE_POOL.
SERVER = 501
SERVER_SIZE = 4_000
SERVER_SEED = 20230111
#: Entries of the server that questions are aimed at.
AIMED = 150
#: The limits the answer service, the fallback and the tests ask for.
LIMITS = (1, 3, 8)
AUTOCOMPLETE_PREFIXES = 150


# ---- frozen inputs --------------------------------------------------------------------------
def _doc_record(doc: Document) -> dict[str, Any]:
    """What retrieval reads of a document (the rest does not change a ranking)."""
    return {
        "key": doc.key,
        "kind": doc.kind,
        "questions": list(doc.questions),
        "body": doc.body,
        "entities": sorted(doc.entities),
        "mentioned": sorted(doc.mentioned),
        "speakers": sorted(doc.speakers),
    }


def _document(record: dict[str, Any], scope: Scope) -> Document:
    return Document(
        key=record["key"],
        scope=scope,
        kind=record["kind"],
        questions=tuple(record["questions"]),
        answer="",
        citations=(),
        body=record["body"],
        entities=frozenset(record["entities"]),
        mentioned=frozenset(record["mentioned"]),
        speakers=frozenset(record["speakers"]),
    )


def _server_document(entry: Entry, lexicon: EntityLexicon) -> Document:
    """A synthetic entry as a document, built here (not by `entry_document`, which may change)."""
    body = " ".join([entry.answer, *(c.excerpt for c in entry.citations), *entry.tags])
    about = {m.entity_id for q in entry.questions for m in lexicon.recognize(q)}
    mentioned = {m.entity_id for m in lexicon.recognize(entry.answer)} - about
    return Document(
        key=entry.id,
        scope=SERVER,
        kind="entry",
        questions=tuple(entry.questions),
        answer="",
        citations=(),
        body=body,
        entities=frozenset(e for e in about if e in lexicon),
        mentioned=frozenset(e for e in mentioned if e in lexicon),
    )


@dataclasses.dataclass
class Engines:
    base: RetrievalEngine  # the curated base, and the synthetic server in scope SERVER
    passages: RetrievalEngine  # the article's sentences (the fallback's engine)
    base_questions: list[str]
    server_questions: list[str]
    prefixes: list[str]


def build(inputs: dict[str, Any], kb: KnowledgeBase) -> Engines:
    """The engines and question lists of a snapshot's inputs (`kb` only lends the article text
    that synthetic entries cite)."""
    weights = dataclasses.replace(DEFAULT_WEIGHTS, **inputs["weights"])
    lexicon = EntityLexicon(Entity(**e) for e in inputs["entities"])
    engine = RetrievalEngine(lexicon, inputs["synonyms"], weights)
    for record in inputs["documents"]:
        engine.index_document(_document(record, None))
    targets = []
    aimed = set(range(0, SERVER_SIZE, SERVER_SIZE // AIMED))
    for n, item in enumerate(iter_entries(SERVER_SIZE, seed=SERVER_SEED, kb=kb, prefix="snap")):
        engine.index_document(_server_document(item.entry, lexicon))
        if n in aimed:
            targets.append(item)
    passages = RetrievalEngine(lexicon, weights=weights)
    for record in inputs["passages"]:
        passages.index_document(_document(record, None))
    questions = list(inputs["questions"])
    server_questions = [*questions, *aimed_questions(targets, seed=SERVER_SEED)]
    prefixes = typing_prefixes(server_questions, seed=SERVER_SEED, count=AUTOCOMPLETE_PREFIXES)
    return Engines(engine, passages, questions, server_questions, prefixes)


def capture_inputs(kb: KnowledgeBase, weights: Weights = DEFAULT_WEIGHTS) -> dict[str, Any]:
    """The inputs as the code builds them today."""
    lexicon = EntityLexicon(kb.entities)
    docs = [entry_document(e, None, lexicon) for e in kb.entries]
    docs += [quote_document(q, lexicon) for q in kb.quotes]
    docs += [decline_document(d) for d in kb.declines]
    fallback = ArticleFallback(kb.sources, kb.texts, lexicon, weights)
    passages = fallback.engine.documents(None)
    questions: list[str] = list(base_mix(7))
    for name in ("train", "dev", "test"):
        path = EVAL / f"{name}.jsonl"
        if path.exists():
            questions += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines()]
    weight_values = {f.name: getattr(weights, f.name) for f in dataclasses.fields(weights)}
    return {
        "weights": weight_values,
        "entities": [e.model_dump() for e in kb.entities],
        "synonyms": dict(kb.synonyms),
        "documents": [_doc_record(d) for d in docs],
        "passages": [_doc_record(d) for d in passages],
        "questions": list(dict.fromkeys(questions)),
    }


# ---- what the engine finds --------------------------------------------------------------------
def _query(query: QueryAnalysis) -> list[Any]:
    return [
        query.key,
        [[t, repr(w)] for t, w in query.terms.items()],
        sorted(query.entities),
        list(query.unknown_entities),
        sorted(query.corrections.items()),
        list(query.oov),
        query.speaker,
        sorted(query.voices),
    ]


def _match(match: Match) -> list[Any]:
    return [
        match.doc.key,
        repr(match.score),
        repr(match.coverage),
        repr(match.similarity),
        match.best_question,
    ]


def _digest(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def findings(engine: RetrievalEngine, question: str, scope: Scope) -> list[str | None]:
    """What the engine finds for one question: the best match and its score plainly, and a
    digest of everything else (the analysis, every candidate with its coverage, the matches at
    each limit: `search` returns `rank`'s matches)."""
    full: dict[str, Any] = {}
    for limit in LIMITS:
        ranking = engine.rank(question, scope, limit)
        full[f"rank{limit}"] = [
            _query(ranking.query),
            [[doc.key, repr(coverage)] for doc, coverage in ranking.candidates],
            [_match(m) for m in ranking.matches],
        ]
    best = full[f"rank{max(LIMITS)}"][2]
    return [best[0][0] if best else None, best[0][1] if best else None, _digest(full)]


def record(engines: Engines) -> dict[str, Any]:
    """Every question's findings in every engine, and autocomplete's suggestions."""
    return {
        "base": [findings(engines.base, q, None) for q in engines.base_questions],
        "server": [findings(engines.base, q, SERVER) for q in engines.server_questions],
        "passages": [findings(engines.passages, q, None) for q in engines.base_questions],
        "autocomplete": record_autocomplete(engines),
    }


def record_autocomplete(engines: Engines) -> list[list[str | None]]:
    """The first suggestion for each prefix typed in the server, and a digest of all 25."""
    suggestions = [engines.base.autocomplete(prefix, SERVER, 25) for prefix in engines.prefixes]
    return [[s[0] if s else None, _digest(s)] for s in suggestions]


def load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    return data


def versions() -> dict[str, str]:
    """What the recorded floats depend on besides the engine: Python (`sum` of floats changed
    in 3.12) and rapidfuzz."""
    return {"python": f"{sys.version_info[0]}.{sys.version_info[1]}", "rapidfuzz": rapidfuzz.__version__}


def _write(path: Path) -> Iterator[str]:
    kb = load_knowledge(PROJECT_ROOT / "knowledge")
    inputs = capture_inputs(kb)
    yield f"{len(inputs['documents'])} documents, {len(inputs['questions'])} questions"
    expected = record(build(inputs, kb))
    meta = {**versions(), "written_by": "python -m tests.core.retrieval.snapshot"}
    path.write_text(
        json.dumps({"meta": meta, "inputs": inputs, "expected": expected}, ensure_ascii=False, indent=0)
        + "\n",
        encoding="utf-8",
    )
    yield f"written to {path}"


if __name__ == "__main__":
    for line in _write(Path(sys.argv[1]) if len(sys.argv) > 1 else SNAPSHOT):
        print(line, file=sys.stderr)
