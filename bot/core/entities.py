"""Recognising people, places and things in a question, with typo tolerance.

"blinkn", "Secretary Blinken" and "the US secretary of state" all resolve to one entity id, so
the matcher can prefer entries about that entity, and a question about someone the source does
not mention ("What did Scholz say?") can be recognised and declined instead of answered about
someone else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.limits import ENTITY_FUZZY_MEMO, ENTITY_TEXT_MEMO
from bot.core.models import Entity
from bot.core.text import QUESTION_WORDS, STOP_WORDS, cased_tokens

#: Below this length an alias must match exactly: "US" is not a typo of "UN".
MIN_FUZZY_CHARS = 4
#: rapidfuzz ratio (0..100) needed to accept a misspelt name.
FUZZY_CUTOFF = 82.0
# The memos of n-grams looked up fuzzily and of whole texts recognised without a vocabulary
# (document indexing recognises each phrasing twice) are bounded in bot.core.limits.


@dataclass(frozen=True)
class Mention:
    entity_id: str
    start: int  # token offsets in the question
    end: int
    score: float  # 1.0 exact, lower for a fuzzy match
    in_source: bool


@dataclass(frozen=True)
class _Alias:
    key: str  # normalised, lower case
    entity_id: str
    #: Short all-caps aliases ("US", "UN") only match when written in capitals,
    #: so the pronoun "us" is not the United States.
    case_sensitive: bool


class EntityLexicon:
    def __init__(self, entities: Iterable[Entity]) -> None:
        self.entities: dict[str, Entity] = {}
        self._aliases: dict[str, list[_Alias]] = {}
        self._by_len: dict[int, list[str]] = {}
        #: n -> the first words of the n-word aliases: an n-gram starting with another word
        #: cannot be an alias, so it is not even joined into a string unless it may be fuzzy.
        self._starts: dict[int, set[str]] = {}
        self._max_n = 1
        # Recognition is a pure function of the aliases, so results are memoised until one is added.
        self._fuzzy_memo: dict[str, tuple[str, float] | None] = {}
        self._text_memo: dict[tuple[str, ...], list[Mention]] = {}
        for entity in entities:
            self.add(entity)

    def add(self, entity: Entity) -> None:
        self.entities[entity.id] = entity
        for form in entity.surface_forms():
            toks = cased_tokens(form)
            if not toks:
                continue
            key = " ".join(t.lower() for t in toks)
            case_sensitive = len(toks) == 1 and len(toks[0]) <= 3 and toks[0].isupper()
            self._aliases.setdefault(key, []).append(_Alias(key, entity.id, case_sensitive))
            keys = self._by_len.setdefault(len(toks), [])
            if key not in keys:
                keys.append(key)
            self._starts.setdefault(len(toks), set()).add(toks[0].lower())
        self._max_n = max(self._by_len, default=1)
        self._fuzzy_memo.clear()
        self._text_memo.clear()

    def __contains__(self, entity_id: object) -> bool:
        return entity_id in self.entities

    def get(self, entity_id: str) -> Entity | None:
        return self.entities.get(entity_id)

    def kind(self, entity_id: str) -> str | None:
        """The kind of entity `entity_id` names ("person", "place" ...), None for an unknown id."""
        entity = self.entities.get(entity_id)
        return entity.kind if entity is not None else None

    def recognize(self, text: str, vocabulary: frozenset[str] | set[str] = frozenset()) -> list[Mention]:
        """Entity mentions in `text`, longest match first, non-overlapping.

        A token that is a known word of the knowledge base (`vocabulary`) is never bent into a
        fuzzy name match: "state" stays "state", it does not become "Tate".
        """
        cased = cased_tokens(text)
        return self.recognize_tokens(cased, vocabulary)

    def recognize_tokens(self, cased: Sequence[str], vocabulary: frozenset[str] | set[str]) -> list[Mention]:
        if vocabulary or not isinstance(cased, tuple):
            return self._recognize(cased, vocabulary)
        found = self._text_memo.get(cased)
        if found is None:
            if len(self._text_memo) >= ENTITY_TEXT_MEMO:
                self._text_memo.clear()
            found = self._text_memo[cased] = self._recognize(cased, vocabulary)
        return list(found)

    def _recognize(self, cased: Sequence[str], vocabulary: frozenset[str] | set[str]) -> list[Mention]:
        lower = [t.lower() for t in cased]
        size = len(lower)
        taken = [False] * size
        # Per-token facts for the fuzzy rule below, computed once instead of once per n-gram:
        # whether a word is a stop word, and running counts (question words, words the
        # knowledge base does not know, letters) that answer "any in i..end" in two lookups.
        stop = [t in STOP_WORDS for t in lower]
        asking = [0]
        unknown = [0]
        letters = [0]
        for t in lower:
            asking.append(asking[-1] + (t in QUESTION_WORDS))
            unknown.append(unknown[-1] + (t not in vocabulary))
            letters.append(letters[-1] + len(t))
        aliases = self._aliases
        mentions: list[Mention] = []
        for n in range(min(self._max_n, size), 0, -1):
            keys = self._by_len.get(n)
            if not keys:
                continue
            starts = self._starts[n]
            for i in range(size - n + 1):
                end = i + n
                # Fuzzy only for a name-like n-gram: no stop word at either end, no question
                # word, long enough, and a typo is a word the knowledge base does not know:
                # known words are not bent into names.
                fuzzy = (
                    not stop[i]
                    and not stop[end - 1]
                    and asking[end] == asking[i]
                    and unknown[end] != unknown[i]
                    and letters[end] - letters[i] >= MIN_FUZZY_CHARS
                )
                if not fuzzy and lower[i] not in starts:
                    continue  # neither an alias (wrong first word) nor a possible typo of one
                if True in taken[i:end]:
                    continue
                gram = " ".join(lower[i:end])
                found = self._exact(gram, cased[i:end]) if gram in aliases else None
                if found is None:
                    if not fuzzy:
                        continue
                    found = self._fuzzy(gram, keys)
                    if found is None:
                        continue
                entity_id, score = found
                for k in range(i, end):
                    taken[k] = True
                mentions.append(Mention(entity_id, i, end, score, self.entities[entity_id].in_source))
        mentions.sort(key=lambda m: m.start)
        return mentions

    def _exact(self, gram: str, cased: Sequence[str]) -> tuple[str, float] | None:
        for alias in self._aliases.get(gram, ()):
            if alias.case_sensitive and not cased[0].isupper():
                continue
            return alias.entity_id, 1.0
        return None

    def _fuzzy(self, gram: str, keys: list[str]) -> tuple[str, float] | None:
        if gram in self._fuzzy_memo:
            return self._fuzzy_memo[gram]
        if len(self._fuzzy_memo) >= ENTITY_FUZZY_MEMO:
            self._fuzzy_memo.clear()
        found = self._fuzzy_memo[gram] = self._fuzzy_lookup(gram, keys)
        return found

    def _fuzzy_lookup(self, gram: str, keys: list[str]) -> tuple[str, float] | None:
        best = process.extractOne(gram, keys, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        if best is None:
            return None
        key = best[0]
        if not _word_by_word_typo(gram, key):
            return None
        aliases = [a for a in self._aliases[key] if not a.case_sensitive and len(key) >= MIN_FUZZY_CHARS]
        if not aliases:
            return None
        return aliases[0].entity_id, float(best[1]) / 100.0


#: How close each word of a several-word name must be to count as a typo of it.
WORD_TYPO_CUTOFF = 70.0


def _word_by_word_typo(gram: str, key: str) -> bool:
    """Whether a several-word n-gram misspells the alias word by word: "secretary of defense" is
    close to "secretary of state" as a string, but "defense" is no typo of "state"."""
    words, alias_words = gram.split(), key.split()
    if len(words) < 2 or len(words) != len(alias_words):
        return True
    return all(fuzz.ratio(a, b) >= WORD_TYPO_CUTOFF for a, b in zip(words, alias_words, strict=True))
