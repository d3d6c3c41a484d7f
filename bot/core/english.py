"""Is a word real English? So that typo correction never "fixes" a real word.

Without this, a word the knowledge base does not contain is bent into the closest one it does:
"spending" became "sending", "tanks" became "thanks", "weather" became "whether", and the bot
answered a question nobody asked. pyspellchecker ships an English word-frequency list; a word
in it is taken as meant, and only non-words ("atended", "meetng") are corrected.

The list takes about 0.2 s to load, so it loads on first use (one-shot CLI questions that need
no correction never pay for it) or ahead of time with `preload()` (the bot, before it connects,
so no answer ever waits for it on the event loop).
"""

from __future__ import annotations

import re
import threading

from spellchecker import SpellChecker

from bot.core.text import stem

#: Occurrences in pyspellchecker's corpus for a word to count as real English. Typos score 0;
#: common words score in the thousands; this keeps rare misspellings that made it into the
#: corpus from passing as words.
MIN_FREQUENCY = 100

_lock = threading.Lock()
_checker: SpellChecker | None = None


# British and American spellings of one word: "characterise"/"characterize", "defence"/"defense".
_VARIANTS = (
    (re.compile(r"is(e|es|ed|ing|ation|ations)$"), r"iz\1"),
    (re.compile(r"yse(s|d)?$"), r"yze\1"),
    (re.compile(r"our(s|ed|ing)?$"), r"or\1"),
    (re.compile(r"ence$"), "ense"),
    (re.compile(r"tre(s)?$"), r"ter\1"),
    (re.compile(r"ll(ed|ing|er)$"), r"l\1"),
    (re.compile(r"ogue(s)?$"), r"og\1"),
)


def american(word: str) -> str:
    """The American spelling of a British-spelt word (unchanged otherwise)."""
    for pattern, replacement in _VARIANTS:
        word = pattern.sub(replacement, word)
    return word


def same_word(a: str, b: str) -> bool:
    """Whether two spellings are forms of one word, British or American
    ("characterize" / "characterised")."""
    return a == b or stem(american(a)) == stem(american(b))


def preload() -> None:
    global _checker
    with _lock:
        if _checker is None:
            _checker = SpellChecker(language="en", distance=1)


def english_corrections(word: str) -> list[str]:
    """The English words one edit away from `word` ("agensy" -> "agency"), most common first."""
    if _checker is None:
        preload()
    assert _checker is not None
    lowered = word.lower()
    found = _known_one_edit_away(_checker, lowered)
    words = [w for w in found if w != lowered and is_english_word(w)]
    frequency = _checker.word_frequency
    return sorted(words, key=lambda w: (-int(frequency[w]), w))


def _known_one_edit_away(checker: SpellChecker, word: str) -> set[str]:
    """`checker.candidates(word) or set()` for a lower-case word, as pyspellchecker computes it
    (distance 1): the word itself when known, else the known words one edit away. The edits are
    looked up in the word list with one set intersection, not a Python call each (a 7-letter
    word has about 700 edits)."""
    letters = checker.word_frequency.letters
    if not word.isascii() or any(c.lower() != c for c in letters):
        return checker.candidates(word) or set()  # lower-casing could change an edit: as it is
    if checker.known([word]):
        return {word}
    edits = checker.edit_distance_1(word)
    if edits == {word}:
        return edits  # a word not to be checked (a number, punctuation): itself
    # `known` lower-cases each edit (these are lower case already) and drops numbers and
    # over-long words: on the few edits that are words, it gives what it gives on all of them.
    return checker.known(edits & checker.word_frequency.dictionary.keys())


def is_english_word(word: str) -> bool:
    if _checker is None:
        preload()
    assert _checker is not None
    return int(_checker.word_frequency[word.lower()]) >= MIN_FREQUENCY


#: Common words that describe, qualify or relate rather than name a thing ("somewhere else",
#: "fairly", "broke"): a question turning on one of them asks about what the article does say.
_NOT_THINGS = frozenset(
    """
    else other others another far near like around about somewhere anywhere something anything
    fairly quite really actually basically pretty rather very just only even still also maybe
    broke broken took taken gave given went gone came come made make got get put set kept keep
    told tell thought think knew know left leave held hold ran run spoke said say saw see
    big small good bad new old high low long short hard easy
    """.split()
)
#: Common words that say what something was like ("tense", "routine", "productive").
_DESCRIBING = frozenset(
    """
    tense difficult routine friendly hostile cordial warm cold heated calm tough rough brief quick
    serious casual frank candid open formal informal boring awkward angry happy sad nice great
    normal usual typical standard ordinary special important major minor huge tiny good bad
    """.split()
)
_DESCRIBING_ENDING = re.compile(r"(?:ful|ous|ive|less|able|ible)$")
#: Endings of verb forms and adverbs ("fixing", "backed", "recently").
_NOT_THING_ENDING = re.compile(r"(?:ing|ed|ly)$")


def describes(word: str) -> bool:
    """Whether `word` (lower case) probably says what something was like ("tense", "productive",
    "successful") rather than naming a thing or an action. A heuristic on the word's form."""
    return word in _DESCRIBING or _DESCRIBING_ENDING.search(word) is not None


def names_a_thing(word: str) -> bool:
    """Whether `word` (lower case) probably names a thing rather than an action or a quality:
    "troops", "tanks", "interpreters" do; "fixing", "recently", "else" do not. A heuristic on the
    word's form, for deciding what a yes/no question claims."""
    return word not in _NOT_THINGS and _NOT_THING_ENDING.search(word) is None and not describes(word)
