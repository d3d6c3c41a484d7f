"""Loading and validating the curated knowledge base from `knowledge/`.

Layout:
    knowledge/sources/<id>.yaml   source metadata; `text_file` names the verbatim text beside it
    knowledge/entities.yaml       {entities: [...]} people, countries, organisations, places
    knowledge/quotes.yaml         {quotes: [...]}   every direct quotation, attributed
    knowledge/entries/*.yaml      {entries: [...]}  Q&A entries, one file per topic

Validation is all-or-nothing: every problem in every file is collected, then loading fails
with all of them, each naming the file, the entry and the offending text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.core.limits import (
    MAX_CLOSEST_PASSAGES,
    MAX_ENTITY_LINKS,
    MAX_EXCERPT_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MIN_EXCERPT_WORDS,
)
from bot.core.models import Citation, Decline, Entity, Entry, Quote, Source
from bot.core.sources import SourceText
from bot.core.text import normalize_query, normalize_verbatim
from bot.core.understanding.focus import FACETS
from bot.core.wording import human_join, plural
from bot.core.yamlsafe import YamlError, load_yaml

M = TypeVar("M", bound=BaseModel)
#: Knowledge items that carry an id.
Item = TypeVar("Item", Entity, Decline)


@dataclass(frozen=True)
class Problem:
    file: str
    item: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.item}" if self.item else self.file
        return f"{where}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base is invalid; `problems` lists every reason."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            f"{plural(len(problems), 'problem')} in the knowledge base:\n" + "\n".join(map(str, problems))
        )


@dataclass
class KnowledgeBase:
    sources: dict[str, Source] = field(default_factory=dict)
    entities: list[Entity] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    #: word a user may type -> the word the knowledge base uses for it
    synonyms: dict[str, str] = field(default_factory=dict)
    declines: list[Decline] = field(default_factory=list)
    texts: dict[str, SourceText] = field(default_factory=dict, repr=False)

    def text_of(self, source_id: str) -> SourceText:
        return self.texts[source_id]

    def stats(self) -> dict[str, int]:
        return {
            "sources": len(self.sources),
            "entries": len(self.entries),
            "phrasings": sum(len(e.questions) for e in self.entries),
            "citations": sum(len(e.citations) for e in self.entries),
            "quotes": len(self.quotes),
            "entities": len(self.entities),
            "synonyms": len(self.synonyms),
            "declines": len(self.declines),
        }


def _pretty_validation(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _item_name(raw: Any, index: int) -> str:
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str):
        return f"id={raw['id']!r}"
    return f"item #{index + 1}"


def parse_items(data: Any, key: str, model: type[M], file: str, problems: list[Problem]) -> list[M]:
    """Validate `data[key]` as a list of `model`, recording a Problem per bad item."""
    if not isinstance(data, Mapping) or not isinstance(data.get(key), list):
        problems.append(Problem(file, None, f"expected a mapping with a list under '{key}:'"))
        return []
    out: list[M] = []
    for i, raw in enumerate(data[key]):
        try:
            out.append(model.model_validate(raw))
        except ValidationError as exc:
            problems.append(Problem(file, _item_name(raw, i), _pretty_validation(exc)))
    return out


def _read_yaml(path: Path, root: Path, problems: list[Problem]) -> Any:
    rel = _rel(path, root)
    try:
        return load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(rel, None, f"cannot read: {exc}"))
    except YamlError as exc:
        problems.append(Problem(rel, None, exc.described("invalid YAML")))
    return None


def _rel(path: Path, root: Path) -> str:
    return str(path.relative_to(root.parent)) if path.is_relative_to(root.parent) else str(path)


def load_sources(root: Path, problems: list[Problem]) -> dict[str, Source]:
    sources: dict[str, Source] = {}
    for path in sorted((root / "sources").glob("*.yaml")):
        rel = _rel(path, root)
        data = _read_yaml(path, root, problems)
        if data is None:
            continue
        if not isinstance(data, dict) or not isinstance(data.get("text_file"), str):
            problems.append(Problem(rel, None, "expected a mapping with 'text_file:'"))
            continue
        text_path = path.parent / data.pop("text_file")
        try:
            data["text"] = text_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(rel, None, f"cannot read text_file {text_path.name}: {exc}"))
            continue
        try:
            source = Source.model_validate(data)
        except ValidationError as exc:
            problems.append(Problem(rel, _item_name(data, 0), _pretty_validation(exc)))
            continue
        if source.id in sources:
            problems.append(Problem(rel, f"id={source.id!r}", "duplicate source id"))
            continue
        sources[source.id] = source
    return sources


_WORD = re.compile(r"\w+")


def excerpt_too_short(text: SourceText, excerpt: str) -> str | None:
    """Why a verbatim `excerpt` still proves nothing (too few words, or cut inside a word), or
    None. The sentence names the minimum, so whoever wrote the excerpt knows what to quote."""
    words = len(_WORD.findall(normalize_verbatim(excerpt)))
    if words < MIN_EXCERPT_WORDS:
        return (
            f"is too short to show where the answer comes from ({plural(words, 'word')}); "
            f"quote at least {MIN_EXCERPT_WORDS} whole words of the source"
        )
    if not text.whole_words(excerpt):
        return "starts or ends in the middle of a word of the source; quote whole words"
    return None


def locate_in_source(
    texts: Mapping[str, SourceText],
    source: str,
    excerpt: str,
    what: str,
    file: str,
    item: str,
    problems: list[Problem],
    *,
    whole_words: bool = True,
) -> str | None:
    """Where `excerpt` stands in `source`, or None with a Problem saying why not.

    `whole_words`: also require `MIN_EXCERPT_WORDS` whole words (new content always; only
    content stored before that rule existed is checked without it)."""
    text = texts.get(source)
    if text is None:
        problems.append(Problem(file, item, f"unknown source id {source!r}"))
        return None
    location = text.locate(excerpt)
    if location is None:
        message = f"{what} is not verbatim in source {source!r}: {excerpt!r}"
        # Not for an excerpt refused for its length anyway, nor past the first problems.
        if len(excerpt) <= MAX_EXCERPT_CHARS and len(problems) < MAX_CLOSEST_PASSAGES:
            message += f". {text.closest_passage(excerpt).suggestion()}"
        problems.append(Problem(file, item, message))
        return None
    short = excerpt_too_short(text, excerpt) if whole_words else None
    if short is not None:
        problems.append(Problem(file, item, f"{what} {excerpt!r} {short}"))
        return None
    return location


def check_citations(
    citations: Iterable[Citation],
    texts: Mapping[str, SourceText],
    file: str,
    item: str,
    problems: list[Problem],
    *,
    whole_words: bool = True,
) -> list[Citation]:
    """Citations with `location` filled in; a Problem for each unknown source, non-verbatim
    excerpt or (with `whole_words`) excerpt too short to prove anything."""
    located: list[Citation] = []
    for cit in citations:
        location = locate_in_source(
            texts, cit.source, cit.excerpt, "excerpt", file, item, problems, whole_words=whole_words
        )
        if location is not None:
            located.append(cit.model_copy(update={"location": location}))
    return located


def list_limit_problems(tags: Iterable[str], entities: Iterable[str]) -> list[str]:
    """Every limit an entry's tags and linked entity ids break, each message stating the limit."""
    tag_list, entity_list = list(tags), list(entities)
    problems: list[str] = []
    if len(tag_list) > MAX_TAGS:
        problems.append(f"There are {len(tag_list):,} tags; the limit is {MAX_TAGS}.")
    longest = max((len(t) for t in tag_list), default=0)
    if longest > MAX_TAG_CHARS:
        problems.append(f"A tag is {longest:,} characters; the limit is {MAX_TAG_CHARS}.")
    if len(entity_list) > MAX_ENTITY_LINKS:
        problems.append(f"There are {len(entity_list):,} linked entities; the limit is {MAX_ENTITY_LINKS}.")
    return problems


def _check_unique(
    items: Iterable[Entry | Quote | Entity | Decline],
    kind: str,
    files: Mapping[str, str],
    problems: list[Problem],
) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            problems.append(Problem(files[item.id], f"id={item.id!r}", f"duplicate {kind} id"))
        seen.add(item.id)


def _load_list(
    root: Path, name: str, key: str, model: type[Item], kind: str, problems: list[Problem]
) -> list[Item]:
    """A file holding one list of items with unique ids (entities.yaml, declines.yaml)."""
    path = root / name
    if not path.exists():
        return []
    rel = _rel(path, root)
    data = _read_yaml(path, root, problems)
    items = parse_items(data, key, model, rel, problems) if data is not None else []
    _check_unique(items, kind, {item.id: rel for item in items}, problems)
    return items


def _load_quotes(
    root: Path, texts: Mapping[str, SourceText], entity_ids: set[str], problems: list[Problem]
) -> list[Quote]:
    path = root / "quotes.yaml"
    if not path.exists():
        return []
    rel = _rel(path, root)
    data = _read_yaml(path, root, problems)
    quotes: list[Quote] = []
    for quote in parse_items(data, "quotes", Quote, rel, problems) if data is not None else []:
        item = f"id={quote.id!r}"
        if quote.speaker not in entity_ids:
            problems.append(Problem(rel, item, f"unknown speaker entity {quote.speaker!r}"))
            continue
        location = locate_in_source(texts, quote.source, quote.text, "quote", rel, item, problems)
        if location is not None:
            quotes.append(quote.model_copy(update={"location": location}))
    _check_unique(quotes, "quote", {q.id: rel for q in quotes}, problems)
    return quotes


FACET_LIST = ", ".join(FACETS)


def _load_entries(
    root: Path, texts: Mapping[str, SourceText], entity_ids: set[str], problems: list[Problem]
) -> list[Entry]:
    entries: list[Entry] = []
    entry_files: dict[str, str] = {}
    for path in sorted((root / "entries").glob("*.yaml")):
        rel = _rel(path, root)
        data = _read_yaml(path, root, problems)
        if data is None:
            continue
        for entry in parse_items(data, "entries", Entry, rel, problems):
            item = f"id={entry.id!r}"
            unknown = [e for e in entry.entities if e not in entity_ids]
            if unknown:
                ids = human_join(map(repr, unknown))
                problems.append(Problem(rel, item, f"{plural(len(unknown), 'unknown entity id')}: {ids}"))
            if entry.answers is None:
                # The curated base says what each entry states; only moderators' entries guess it.
                problems.append(
                    Problem(rel, item, f"no 'answers:' (the kinds of fact it states: {FACET_LIST})")
                )
            elif not set(entry.approximate) <= set(entry.answers):
                problems.append(
                    Problem(rel, item, "'approximate:' lists a kind of fact that 'answers:' does not")
                )
            problems.extend(Problem(rel, item, p) for p in list_limit_problems(entry.tags, entry.entities))
            n_before = len(problems)
            located = check_citations(entry.citations, texts, rel, item, problems)
            if len(problems) == n_before:
                entries.append(entry.model_copy(update={"citations": located}))
            if entry.id in entry_files:
                problems.append(Problem(rel, item, f"duplicate entry id (also in {entry_files[entry.id]})"))
            else:
                entry_files[entry.id] = rel
    return entries


def _load_synonyms(root: Path, problems: list[Problem]) -> dict[str, str]:
    path = root / "synonyms.yaml"
    if not path.exists():
        return {}
    rel = _rel(path, root)
    data = _read_yaml(path, root, problems)
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("synonyms"), dict):
        problems.append(Problem(rel, None, "expected a mapping with 'synonyms:' of word: word"))
        return {}
    synonyms: dict[str, str] = {}
    for raw_word, raw_target in data["synonyms"].items():
        word, target = normalize_query(str(raw_word)), normalize_query(str(raw_target))
        if len(word.split()) != 1 or len(target.split()) != 1:
            problems.append(Problem(rel, f"{raw_word!r}", "a synonym maps one word to one word"))
        elif word == target:
            problems.append(Problem(rel, f"{raw_word!r}", "a word cannot be its own synonym"))
        else:
            synonyms[word] = target
    return synonyms


def load_knowledge(root: Path | str) -> KnowledgeBase:
    """Load and validate everything under `root`, or raise KnowledgeError listing every problem."""
    root = Path(root)
    problems: list[Problem] = []
    if not root.is_dir():
        raise KnowledgeError([Problem(str(root), None, "knowledge directory not found")])

    sources = load_sources(root, problems)
    if not sources:
        problems.append(Problem(_rel(root / "sources", root), None, "no sources found"))
    texts = {sid: SourceText(src) for sid, src in sources.items()}
    entities = _load_list(root, "entities.yaml", "entities", Entity, "entity", problems)
    entity_ids = {e.id for e in entities}
    quotes = _load_quotes(root, texts, entity_ids, problems)
    entries = _load_entries(root, texts, entity_ids, problems)
    synonyms = _load_synonyms(root, problems)
    declines = _load_list(root, "declines.yaml", "declines", Decline, "decline", problems)
    clash = {d.id for d in declines} & {e.id for e in entries}
    if clash:
        problems.append(Problem("declines.yaml", None, f"ids also used by entries: {sorted(clash)}"))

    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(
        sources=sources,
        entities=entities,
        quotes=quotes,
        entries=entries,
        synonyms=synonyms,
        declines=declines,
        texts=texts,
    )
