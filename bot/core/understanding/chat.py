"""Chat noise and abbreviations: "ok so who r the ppl at the mtg lol 😅" -> "who are the people at
the meeting".

Discord messages carry filler ("lol", "bruh", "ngl"), emoji and shorthand that are not topic
words. Left in, a filler word counts as an unknown word and drags an answerable question below
the threshold; an abbreviation ("mtg") never meets the word the knowledge base uses ("meeting").
The tables are small and curated on purpose: only forms that cannot be a real topic word here.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Final

from bot.core.text import CHAT_SPELLINGS

#: Shorthand -> what it stands for (lower case, whole words only).
ABBREVIATIONS: Final[dict[str, str]] = {
    # The chat spellings tokenisation already folds (one table, in bot.core.text), and more.
    **CHAT_SPELLINGS,
    "ppl": "people",
    # days as people shorten them in chat ("was it on wed or thurs")
    "mon": "monday",
    "tues": "tuesday",
    "tue": "tuesday",
    "wed": "wednesday",
    "weds": "wednesday",
    "thurs": "thursday",
    "thu": "thursday",
    "thur": "thursday",
    "fri": "friday",
    "ppls": "people",
    "peeps": "people",
    "mtg": "meeting",
    "mtng": "meeting",
    "meetin": "meeting",
    "ya": "you",
    "w/": "with",
    "w": "with",
    "n": "and",
    "w/o": "without",
    "yr": "year",
    "yrs": "years",
    "govt": "government",
    "gov": "government",
    "govts": "governments",
    "bc": "because",
    "cuz": "because",
    "coz": "because",
    "cos": "because",
    "b4": "before",
    "thru": "through",
    "wanna": "want to",
    "gonna": "going to",
    "gotta": "have to",
    "dunno": "do not know",
    "tryna": "trying to",
    "acc": "according",
    "abut": "about",
    "abot": "about",
    "abour": "about",
    "smth": "something",
    "sth": "something",
    "smthn": "something",
    "wot": "what",
    "whut": "what",
    # Misspelt question and function words: the typo corrector reads only topic words.
    "waht": "what",
    "whta": "what",
    "wich": "which",
    "whcih": "which",
    "whihc": "which",
    "wehre": "where",
    "whrere": "where",
    "whn": "when",
    "hwo": "how",
    "woh": "who",
    "ther": "there",
    "thier": "their",
    "waz": "was",
    "wuz": "was",
    "becuase": "because",
    "beacuse": "because",
    "whr": "where",
    "hw": "how",
    "dis": "this",
    "dat": "that",
    "da": "the",
    "nxt": "next",
    "intl": "international",
    "natl": "national",
    "convo": "conversation",
    "pres": "president",
    "prez": "president",
    "sec": "secretary",
    "min": "minister",
    "secy": "secretary",
    "defence": "defense",
    "jpn": "japan",
    "jp": "japan",
    "ukr": "ukraine",
    "rus": "russia",
    "ru": "russia",
    "usa": "united states",
    "amerca": "america",
    "pic": "photo",
    "pics": "photos",
    "foto": "photo",
    "2day": "today",
    "cud": "could",
    "wud": "would",
    "shud": "should",
    "ty": "thanks",
    "tysm": "thanks",
    "pleez": "please",
    "k": "ok",
    "kk": "ok",
    "im": "i am",
    "iirc": "if i remember correctly",
    "afaik": "as far as i know",
    "rn": "",
    "irl": "in person",
}

#: Words and phrases that carry no content in a chat message (removed as whole words).
FILLERS: Final[tuple[str, ...]] = (
    "lol",
    "lmao",
    "lmfao",
    "rofl",
    "haha",
    "hahaha",
    "hehe",
    "bruh",
    "bro",
    "dude",
    "fam",
    "ngl",
    "tbh",
    "tbf",
    "imo",
    "imho",
    "idk",
    "idc",
    "smh",
    "omg",
    "omfg",
    "wtf",
    "btw",
    "fr",
    "frfr",
    "fyi",
    "lowkey",
    "highkey",
    "deadass",
    "yo",
    "yoo",
    "ayo",
    "sup",
    "hmm",
    "hmmm",
    "uh",
    "um",
    "umm",
    "uhh",
    "ok so",
    "tldr",
    "tl;dr",
    "replying to",
    "okay so",
    "so like",
    "like,",
    "quick q",
    "quick question",
    "real quick",
    "anyone know",
    "anybody know",
    "does anyone know",
    "does anybody know",
    "someone pls",
    "help pls",
    "asking for a friend",
    "xd",
    "wait",
    "mister",
    "thing",
    "things",
    "stuff",
    "or nah",
    "or not",
    "nah",
    "tho",
    "lmk",
    "pls help",
    "xD",
    "kinda",
    "sorta",
    "literally",
    "basically",
    "actually",
    "even",
)

#: Text emoticons (":)", ":D", ";-)", "xD", "<3").
_EMOTICON = re.compile(r"(?:(?<=\s)|^)(?:[:;=8][-']?[)(\]\[dDpPoO/\\|3*]+|<3+|[xX][dD]+)(?=\s|$)")
_DISCORD_EMOJI = re.compile(r"<a?:\w+:\d+>|:[a-z0-9_+-]+:")
#: "@bot", "<@123>", "@everyone": who a chat message is addressed to, not what it asks.
_ADDRESSED = re.compile(r"<@[!&]?\d+>|(?<![\w@])@\w+")
_REPEATS = re.compile(r"([!?.])\1+")
_DOTTED = re.compile(r"\b(?:[A-Za-z]\.){2,}")
_WORD = re.compile(r"[A-Za-z0-9/']+")
_FILLER_RE = re.compile(
    r"(?<![\w'])(?:" + "|".join(re.escape(f) for f in sorted(FILLERS, key=len, reverse=True)) + r")(?![\w'])",
    re.IGNORECASE,
)
#: "soooo", "whyyy", "pleaseee": letters drawn out for emphasis (three or more in a row; lower
#: case only, so "Austin III" keeps its numeral).
_STRETCH = re.compile(r"([a-z])\1{2,}")


#: A question word typed as another real word ("Were was it held?", "wen is the summit"): only
#: where a verb follows at the start of a sentence, so "Were there four?" keeps its "were".
_MISTYPED_QUESTION_WORD = re.compile(
    r"(?:^|(?<=[.?!,;:]\s))(were|wer|wen|wat)(?=\s+(?:was|is|are|were|did|does|do|will|would|can|could|should|has|have)\b)",
    re.IGNORECASE,
)
_MEANT: Final = {"were": "where", "wer": "where", "wen": "when", "wat": "what"}


def _is_emoji(ch: str) -> bool:
    category = unicodedata.category(ch)
    # So: pictographs and emoji; Sk: skin-tone modifiers; Cf/Mn cover joiners and variation selectors.
    return category in {"So", "Sk"} or ch in "\u200d\ufe0f\ufe0e"


def strip_emoji(text: str) -> str:
    """Remove emoji, Discord custom emoji (<:name:id>, :name:) and text emoticons."""
    text = _DISCORD_EMOJI.sub(" ", text)
    if not text.isascii():
        text = "".join(" " if _is_emoji(ch) else ch for ch in text)
    return _EMOTICON.sub(" ", text)


def expand_abbreviations(text: str) -> str:
    """Replace whole-word chat shorthand with the words it stands for, keeping everything else."""

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        full = ABBREVIATIONS.get(word.lower())
        if full is None:
            return word
        # "U.S." and "US" are the country, never "you"; a one-letter capital is kept as typed.
        if len(word) == 1 and word.isupper() and word not in {"U", "R"}:
            return word
        return full

    if _ABBREVIATED.isdisjoint(map(str.lower, _WORD.findall(text))):
        return text  # no shorthand: nothing to swap (a swap per word costs a Python call)
    return _WORD.sub(swap, text)


_ABBREVIATED: Final = frozenset(ABBREVIATIONS)
_WORD_RUN: Final = re.compile(r"[\w']+")
#: The first word of every filler: in ASCII text, `_FILLER_RE` can only match where a word (as
#: its boundaries read them) is one of these; None if a filler does not start with a word.
_FILLER_STARTS: Final = (
    frozenset(m.group(0) for m in map(_WORD_RUN.match, (f.lower() for f in FILLERS)) if m is not None)
    if all(_WORD_RUN.match(f) for f in FILLERS)
    else None
)


def _may_hold_filler(text: str) -> bool:
    """False when `_FILLER_RE` surely finds nothing in `text` (skipping it saves its pass)."""
    if _FILLER_STARTS is None or not text.isascii():
        return True  # case folding beyond ASCII is the regex's to judge
    return not _FILLER_STARTS.isdisjoint(_WORD_RUN.findall(text.lower()))


def _may_hold_mistyped(text: str) -> bool:
    """False when `_MISTYPED_QUESTION_WORD` surely finds nothing in `text`."""
    if not text.isascii():
        return True
    lowered = text.lower()
    return any(word in lowered for word in _MEANT)


def clean_chat(text: str) -> str:
    """The question without chat noise: emoji, filler words, stretched letters and shorthand.

    Never empties a message that had words: if everything was noise, the text is returned as it
    was, so small talk ("lol") still reaches the polite decline instead of looking blank.
    """
    # An ellipsis ends a thought.
    text = text.replace("\u2026", "...")
    # A pass runs only where what it removes can be: an "@", a dot, a doubled mark, a filler's
    # first word, a mistyped question word (each test costs less than the pass).
    cleaned = strip_emoji(_ADDRESSED.sub(" ", text) if "@" in text else text)
    if "." in cleaned:
        # "U.S." is one word: its letters are not the chat "u".
        cleaned = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), cleaned)
    if "!!" in cleaned or "??" in cleaned or ".." in cleaned:
        cleaned = _REPEATS.sub(r"\1", cleaned)
    cleaned = _STRETCH.sub(r"\1", cleaned)
    if _may_hold_filler(cleaned):
        cleaned = _FILLER_RE.sub(" ", cleaned)
    cleaned = expand_abbreviations(cleaned)
    if _may_hold_mistyped(cleaned):
        cleaned = _MISTYPED_QUESTION_WORD.sub(lambda m: _MEANT[m.group(1).lower()], cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" ,;:-")
    return cleaned if any(ch.isalnum() for ch in cleaned) else text.strip()
