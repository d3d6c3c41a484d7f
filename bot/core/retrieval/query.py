"""A question as weighted terms: entities, corrected typos, synonyms, and whose words it asks for."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.core.english import english_corrections, is_english_word, same_word
from bot.core.entities import EntityLexicon, Mention
from bot.core.retrieval.index import IdfTable, ScopeIndex
from bot.core.retrieval.terms import entity_term
from bot.core.retrieval.vocabulary import Vocabulary
from bot.core.retrieval.weights import Weights
from bot.core.text import QUESTION_WORDS, STOP_WORDS, cased_tokens, stem

#: Query terms for words no document contains start with this (it never starts a real term).
UNKNOWN_PREFIX = "?"
#: Words that ask for what someone said, as stems.
SPEECH_STEMS = frozenset(
    {"say", "tell", "quot", "remark", "comment", "speak", "claim", "word", "statement", "describ",
     "character", "characteris"}
)  # fmt: skip
#: Words that ask for wording ("What *word* did they *use*?", "How did they *characterize*
#: it?"): they say how the question asks, not what it is about, so they are not looked up.
ASKING_FOR_WORDS = frozenset(
    {"word", "words", "phrase", "phrases", "expression", "term", "wording", "use", "used",
     "characterize", "characterise", "characterized", "characterised", "label", "labeled", "labelled"}
)  # fmt: skip
#: Words that introduce whose words follow ("a quote from Austin", "remarks by Blinken").
SOURCE_WORDS = frozenset({"from", "by", "of"})
ARTICLES = frozenset({"the", "a", "an", "us", "japan", "japanese", "american"})
#: Kinds of entity whose words a question can ask for.
SPEAKING_KINDS = frozenset({"person", "country", "organization"})


def asks_for_words(text: str) -> bool:
    """Whether a question asks what someone said."""
    return any(stem(t.lower()) in SPEECH_STEMS for t in cased_tokens(text))


@dataclass(frozen=True)
class QueryAnalysis:
    text: str
    key: str
    terms: dict[str, float]  # term -> weight
    entities: frozenset[str]  # in-source entities named
    unknown_entities: tuple[str, ...]  # entity ids the source does not mention
    corrections: dict[str, str]  # typo -> known word
    oov: tuple[str, ...]  # words neither known nor correctable
    #: Whose words are asked for ("What did Blinken say ..."), if anyone's...
    speaker: str | None = None
    #: ... and the speakers whose quotations count as theirs: a country speaks through its
    #: ministers ("What did Japan say?" is answered by Hayashi's words).
    voices: frozenset[str] = frozenset()

    @property
    def total_weight(self) -> float:
        return sum(self.terms.values())

    @property
    def unknown_share(self) -> float:
        """The share of the question's weight carried by words no document contains."""
        total = self.total_weight
        return sum(w for t, w in self.terms.items() if t.startswith(UNKNOWN_PREFIX)) / total if total else 0.0


class QueryAnalyzer:
    """Reads a question against the indexes visible in its scope."""

    def __init__(self, lexicon: EntityLexicon, synonyms: Mapping[str, str], weights: Weights) -> None:
        self.lexicon = lexicon
        #: A word no document contains -> the word the knowledge base uses for it.
        self.synonyms = synonyms
        # Any form of a listed word means the same: "convened" as "convene", "fixing" as "fix".
        self._stemmed_synonyms = {stem(word): meaning for word, meaning in synonyms.items()}
        # A misspelt synonym ("worrid") is corrected to it, then read as what it means.
        self._synonym_words = Vocabulary(weights)
        self._synonym_words.add(synonyms)
        self._weights = weights

    def analyze(self, question: str, indexes: list[ScopeIndex], table: IdfTable) -> QueryAnalysis:
        """`question` as weighted terms; `indexes` and `table` are those of its scope."""
        weights = self._weights
        cased = cased_tokens(question)
        lower = [t.lower() for t in cased]
        vocabulary: set[str] = set()
        for index in indexes:
            vocabulary.update(t for t in lower if t in index.vocab)
        mentions = self.lexicon.recognize_tokens(cased, vocabulary)
        covered = {k for m in mentions for k in range(m.start, m.end)}
        idf = table.get
        oov_weight = table.unknown_weight
        terms: dict[str, float] = {}
        known_entities: set[str] = set()
        unknown: list[str] = []
        for mention in mentions:
            if mention.in_source:
                known_entities.add(mention.entity_id)
                term = entity_term(mention.entity_id)
                terms[term] = max(terms.get(term, 0.0), weights.entity_boost * idf(term) * mention.score)
            elif mention.score >= weights.unknown_entity_min_score:
                unknown.append(mention.entity_id)
        corrections: dict[str, str] = {}
        oov: list[str] = []
        for pos, tok in enumerate(lower):
            if pos in covered or tok in STOP_WORDS or tok in ASKING_FOR_WORDS:
                continue
            if tok in QUESTION_WORDS:
                # What is asked (a time, a place, a person) matters, but less than the topic.
                term = stem(tok)
                terms[term] = max(terms.get(term, 0.0), weights.question_word_scale * idf(term))
                continue
            weight_scale = 1.0
            synonym = self._synonym(tok) if tok not in vocabulary else None
            if synonym is not None:
                # A curated synonym says what the word means here, even if its stem is known.
                corrections[tok] = synonym
                tok, weight_scale = synonym, weights.synonym_scale
            elif tok not in vocabulary and not any(stem(tok) in i.postings for i in indexes):
                fixed = self._correct(tok, indexes)
                if fixed is None:
                    oov.append(tok)
                    terms[UNKNOWN_PREFIX + tok] = oov_weight
                    continue
                corrections[tok] = fixed[0]
                tok, weight_scale = fixed
            term = stem(tok)
            terms[term] = max(terms.get(term, 0.0), idf(term) * weight_scale)
        key_words = [corrections.get(t, t) for t in lower if t not in STOP_WORDS]
        speaker = self._speaker(lower, mentions, _possessives(question))
        return QueryAnalysis(
            text=question,
            key=" ".join(key_words),
            terms=terms,
            entities=frozenset(known_entities),
            unknown_entities=tuple(dict.fromkeys(unknown)),
            corrections=corrections,
            oov=tuple(oov),
            speaker=speaker,
            voices=self.voices(speaker) if speaker else frozenset(),
        )

    def _synonym(self, word: str) -> str | None:
        found = self.synonyms.get(word)
        return found if found is not None else self._stemmed_synonyms.get(stem(word))

    def voices(self, entity_id: str) -> frozenset[str]:
        """The entity itself, and for a country its people (Japan -> Hayashi, Hamada)."""
        entity = self.lexicon.get(entity_id)
        if entity is None or entity.kind != "country":
            return frozenset({entity_id})
        people = {
            e.id for e in self.lexicon.entities.values() if e.kind == "person" and e.country == entity.name
        }
        return frozenset({entity_id} | people)

    def _speaker(self, lower: list[str], mentions: list[Mention], possessive: frozenset[str]) -> str | None:
        """Who is nearest a speech verb ("say", "quote", "remarks"), preferring one before it;
        never a name in the possessive ("How did Hayashi describe *Russia's* aggression?")."""
        named = {k for m in mentions for k in range(m.start, m.end)}
        # A word inside a name is not a verb: "joint statement" names a document.
        verbs = [i for i, t in enumerate(lower) if i not in named and stem(t) in SPEECH_STEMS]
        voices = [
            m
            for m in mentions
            if m.in_source and self._can_speak(m.entity_id) and lower[m.end - 1] not in possessive
        ]
        if not verbs or not voices:
            return None
        verb = verbs[0]
        # "... according to the statement": a noun of speech after an article has no speaker
        # before it (only "the remarks by Blinken" names one).
        # Nor does "said to be", which reports without saying who spoke.
        noun = (verb > 0 and lower[verb - 1] in ARTICLES) or (
            lower[verb + 1 : verb + 2] == ["to"] and lower[verb + 2 : verb + 3] in (["be"], ["have"])
        )
        before = [] if noun else [m for m in voices if m.end <= verb]
        # The speaker is the subject of the verb: only helping words may stand between them
        # ("What did Blinken *really* say?"); in "Russia must be accountable for what, the
        # ministers say?" Russia is not who speaks.
        if before and all(t in _BETWEEN_SPEAKER_AND_VERB for t in lower[before[-1].end : verb]):
            return str(before[-1].entity_id)
        # After the verb, a name is the speaker only as in "a quote from Austin", "remarks by
        # Blinken"; in "what did they say about NATO" it is the topic.
        after = [m for m in voices if m.start > verb and _introduced_by_source_word(lower, m.start)]
        return str(after[0].entity_id) if after else None

    def _can_speak(self, entity_id: str) -> bool:
        entity = self.lexicon.get(entity_id)
        return entity is not None and entity.kind in SPEAKING_KINDS

    def _misspelt_synonym(self, token: str, indexes: list[ScopeIndex]) -> tuple[str, float] | None:
        """A non-word that misspells no word of the entries may misspell a curated synonym
        ("worrid") or an English word that is one ("agensy" -> "agency" -> "credit")."""
        synonym = self._synonym_words.closest(token)
        if synonym is not None:
            return self.synonyms[synonym[0]], synonym[1] / 100.0
        # Only a word the entries use, or a curated synonym, the one the entries use most first:
        # "meating" is "meeting" here, not the more common English "meaning".
        found = [(sum(i.vocab.uses(w) for i in indexes), w) for w in english_corrections(token)]
        for uses, word in sorted(found, key=lambda f: -f[0]):
            meaning = word if uses else self._synonym(word)
            similarity = fuzz.ratio(token, word)
            if meaning is not None and similarity >= self._weights.dictionary_typo_cutoff:
                return meaning, similarity / 100.0
        return None

    def _correct(self, token: str, indexes: list[ScopeIndex]) -> tuple[str, float] | None:
        if len(token) < self._weights.typo_min_chars or not token.isalpha():
            return None
        best: tuple[str, float] | None = None
        for index in indexes:
            found = index.vocab.closest(token)
            if found is not None and (best is None or found[1] / 100.0 > best[1]):
                best = (found[0], found[1] / 100.0)
        # A real word is meant as written ("spending" is not a misspelt "sending"), unless the
        # match is the same word in the other spelling ("characterize" / "characterise").
        if best is None:
            return None if is_english_word(token) else self._misspelt_synonym(token, indexes)
        if not same_word(token, best[0]) and is_english_word(token):
            return None
        return best


#: A name in the possessive before a word for a thing, not for people who speak ("Russia's
#: aggression", but not "Ukraine's government" or "Japan's foreign minister").
_POSSESSIVE = re.compile(
    r"(\w+)['\u2019]s\s+(?!(?:government|officials?|president|prime|foreign|defen[cs]e|leaders?|ministers?"
    r"|ministry|side|delegation|spokes\w*|embassy|people|envoy|top|words?|remarks?|quotes?|comments?"
    r"|statements?|views?|answers?|repl\w+|response|message|speech|exact|own)\b)",
    re.IGNORECASE,
)


_BETWEEN_SPEAKER_AND_VERB = frozenset(
    "did does do has have had will would was is were be been can could should may might must also "
    "not never ever really actually just specifically publicly exactly then later first basically "
    "and or himself herself themselves s personally officially government officials official side "
    "ministry delegation spokesperson spokesman leaders leader people president".split()
)


def _possessives(text: str) -> frozenset[str]:
    """The names written in the possessive of a thing ("Russia's aggression" -> {"russia"})."""
    return (
        frozenset(m.group(1).lower() for m in _POSSESSIVE.finditer(text))
        if "'" in text or "\u2019" in text
        else frozenset()
    )


def _introduced_by_source_word(lower: list[str], start: int) -> bool:
    """ "a quote from Austin", "remarks by Blinken": a source word right after words of speech
    ("the infrastructure of Ukraine" names a topic)."""
    at = start - 1
    while at >= 0 and lower[at] in ARTICLES:
        at -= 1
    if at < 1 or lower[at] not in SOURCE_WORDS:
        return False
    return stem(lower[at - 1]) in SPEECH_STEMS
