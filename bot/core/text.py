"""Text normalisation: the one place that decides how text is compared.

Two different normal forms exist on purpose:
- `normalize_verbatim` is for proving an excerpt stands in a source: it keeps every word and
  punctuation mark and only folds whitespace, typographic quotes and dashes.
- `normalize_query` / `tokenize` are for matching questions: lower case, no punctuation,
  accents folded, so "Blinken's" and "blinkens" compare alike.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache
from typing import Any

import snowballstemmer

from bot.core.limits import STEMS_MEMO, TOKENS_CACHE

# Typographic quotes and dashes that editors and keyboards swap freely.
_QUOTE_FOLD = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "`": "'",
        "\u00b4": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2033": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
    }
)
_WS = re.compile(r"\s+")
# Format characters (zero-width joiners, direction marks) carry no meaning for matching.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_NON_WORD = re.compile(r"[^a-z0-9+]+", re.ASCII | re.IGNORECASE)
_PLUS_RUN = re.compile(r"\+{2,}")
_PLUS_SPACED = re.compile(r"\s*\+\s*")
_DOTTED_ABBREV = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_POSSESSIVE = re.compile(r"'s\b", re.IGNORECASE)

# Words that carry no topic. Question words (who/when/where) are kept: they steer intent.
STOP_WORDS: frozenset[str] = frozenset(
    """
    a an the of to in on at for by with from into about as and or but if then than so is are
    was were be been being am do does did done doing have has had having i me my we us our you
    your he him his she her it its they them their this that these those there here what which
    whom whose would could should can will shall may might must know any some all please just
    also very really much many more up down out off over under again only own same too both
    each few most other such yet ok okay hey hi whether anything something everything nothing
    anyone someone tell explain describe detail details info information give show learn s t d ll re
    ve m regarding concerning along per actually basically until till
    isnt arent wasnt werent dont doesnt didnt wont cant couldnt wouldnt shouldnt hasnt havent hadnt
    im ive youre youve theyre theyve theyll youll weve hes shes thats theres whats whos id
    """.split()
)
QUESTION_WORDS: frozenset[str] = frozenset({"who", "when", "where", "why", "how", "what", "which"})


def fold_typography(text: str) -> str:
    """Fold typographic quotes, dashes and no-break spaces to their ASCII forms."""
    if text.isascii():
        # The only ASCII character either step changes is the backtick (a per-character
        # translation of ASCII text costs more than the rest of tokenising it).
        return text.replace("`", "'") if "`" in text else text
    return _INVISIBLE.sub("", text).translate(_QUOTE_FOLD)


def normalize_verbatim(text: str) -> str:
    """The form in which an excerpt must appear inside its source to count as verbatim."""
    return _WS.sub(" ", fold_typography(unicodedata.normalize("NFC", text))).strip()


def strip_accents(text: str) -> str:
    if text.isascii():
        return text  # nothing to decompose: skips a per-character pass on most text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Chat spellings people type for common words; folded so they are not mistaken for topics.
CHAT_SPELLINGS: dict[str, str] = {
    "wat": "what",
    "wut": "what",
    "wht": "what",
    "wen": "when",
    "wher": "where",
    "teh": "the",
    "hte": "the",
    "y": "why",
    "u": "you",
    "ur": "your",
    "r": "are",
    "abt": "about",
    "bout": "about",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "whos": "who",
    "wats": "what",
    "whats": "what",
    "wheres": "where",
    "whens": "when",
    "hows": "how",
    "dont": "do",
}
_CHAT_WORDS = frozenset(CHAT_SPELLINGS)
#: `_NON_WORD` as a byte table: every ASCII byte but a letter, a digit or "+" becomes a space.
_NON_WORD_BYTES = bytes(
    byte if chr(byte).isascii() and (chr(byte).isalnum() or byte == ord("+")) else ord(" ")
    for byte in range(256)
)


@lru_cache(maxsize=TOKENS_CACHE)
def cased_tokens(text: str) -> tuple[str, ...]:
    """Tokens of `text` with their original letter case (see `normalize_query` for the rules)."""
    folded = strip_accents(fold_typography(text))
    # Possessives name the same thing: "Russia's war" is about "russia".
    if "'" in folded:
        folded = _POSSESSIVE.sub("", folded).replace("'", "")
    # Dotted abbreviations are one word: "U.S." -> "US", "D.C." -> "DC".
    if "." in folded:
        folded = _DOTTED_ABBREV.sub(lambda m: m.group(0).replace(".", ""), folded)
    if folded.isascii():
        # As _NON_WORD's substitution, but a space per character instead of per run: the
        # steps below ignore how many spaces separate two words.
        words = folded.encode("ascii").translate(_NON_WORD_BYTES).decode("ascii")
    else:
        words = _NON_WORD.sub(" ", folded)
    if "+" not in words:
        tokens = words.split()
        if _CHAT_WORDS.isdisjoint(words.lower().split()):
            return tuple(tokens)
        return tuple([CHAT_SPELLINGS.get(token.lower(), token) for token in tokens])
    # "2 + 2" and "2+2" name the same meeting; a lone "+" is punctuation.
    words = _PLUS_SPACED.sub("+", words)
    words = _PLUS_RUN.sub("+", words)
    out: list[str] = []
    for raw in words.split():
        token = raw.strip("+")
        if token:
            out.append(CHAT_SPELLINGS.get(token.lower(), token))
    return tuple(out)


def normalize_query(text: str) -> str:
    """Lower-case ASCII words separated by single spaces.

    Accents, typographic quotes, possessives and punctuation are folded away, so
    "Blinken\u2019s" and "blinkens" compare alike. Idempotent.
    """
    return " ".join(t.lower() for t in cased_tokens(text))


def tokenize(text: str) -> list[str]:
    """Normalised tokens of a text, in order, stop words included."""
    return normalize_query(text).split()


def content_tokens(text: str) -> list[str]:
    """Tokens that carry topic: no stop words, no question words."""
    return [t for t in tokenize(text) if t not in STOP_WORDS and t not in QUESTION_WORDS]


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of a source: blocks separated by blank lines, whitespace-trimmed."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n"))
    return [b.strip() for b in blocks if b.strip()]


# A Snowball stemmer keeps its working state on the object: one per thread, since entries are
# read on the worker pool while the event loop answers.
_STEMMERS = threading.local()


def _stemmer() -> Any:
    found = getattr(_STEMMERS, "english", None)
    if found is None:
        found = _STEMMERS.english = snowballstemmer.stemmer("english")
    return found


# Irregular forms the stemmer cannot join to their base word.
_IRREGULAR: dict[str, str] = {
    "said": "say",
    "says": "say",
    "told": "tell",
    "took": "take",
    "met": "meet",
    "came": "come",
    "held": "hold",
    "went": "go",
    "gone": "go",
    "spoke": "speak",
    "spoken": "speak",
    "thought": "think",
    "saw": "see",
    "seen": "see",
    "won": "win",
    "gave": "give",
    "given": "give",
}


#: Stems already computed. A plain dict, cleared when full: an lru_cache entry costs about
#: three times as much memory, and the hit rate is the same for a vocabulary this size.
_STEMS: dict[str, str] = {}


def stem(token: str) -> str:
    """Snowball (Porter 2) stem: "condemned"/"condemns" -> "condemn".

    Only used to widen keyword overlap; phrasing similarity still sees the full words.
    """
    found = _STEMS.get(token)
    if found is None:
        found = _IRREGULAR.get(token) or str(_stemmer().stemWord(token)) if token.isalpha() else token
        if len(_STEMS) >= STEMS_MEMO:
            _STEMS.clear()
        _STEMS[token] = found
    return found


def valid_unicode(text: str) -> str:
    """`text` as valid Unicode: surrogate pairs joined, lone surrogates replaced with U+FFFD.

    Lone surrogates reach the bot from undecodable command-line bytes (Python's
    surrogateescape) and from JSON escapes such as "\\ud800"; they cannot be encoded as UTF-8,
    so SQLite, files and Discord would all refuse them.
    """
    if text.isascii():
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
