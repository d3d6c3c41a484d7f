from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from bot.core.text import (
    cased_tokens,
    content_tokens,
    normalize_query,
    normalize_verbatim,
    split_paragraphs,
    stem,
    strip_accents,
)

any_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)


@given(any_text)
def test_normalize_query_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize_query(text)
    assert normalize_query(once) == once


@given(any_text)
def test_normalize_query_is_plain_lowercase_words(text: str) -> None:
    out = normalize_query(text)
    assert out == out.strip()
    assert "  " not in out
    assert all(ch.isascii() and (ch.islower() or ch.isdigit() or ch in " +") for ch in out)


@given(any_text)
def test_normalize_verbatim_is_idempotent(text: str) -> None:
    once = normalize_verbatim(text)
    assert normalize_verbatim(once) == once


@given(any_text)
def test_cased_tokens_agree_with_normalize_query(text: str) -> None:
    assert " ".join(t.lower() for t in cased_tokens(text)) == normalize_query(text)


def test_typographic_quotes_and_dashes_fold() -> None:
    assert normalize_verbatim("Russia\u2019s \u201cwar\u201d \u2013 now") == 'Russia\'s "war" - now'
    assert normalize_verbatim("a \n\t b") == "a b"


def test_possessives_abbreviations_and_two_plus_two() -> None:
    assert normalize_query("Russia\u2019s war") == "russia war"
    assert normalize_query("Who was there for the U.S.?") == "who was there for the us"
    assert normalize_query("the 2 + 2 meeting") == "the 2+2 meeting"
    assert normalize_query("Caf\u00e9 Z\u00fcrich") == "cafe zurich"


def test_chat_spellings_are_folded() -> None:
    assert normalize_query("wat did u say abt it") == "what did you say about it"


def test_zero_width_and_direction_marks_are_ignored() -> None:
    assert normalize_query("Bli\u200bnken\u202e") == "blinken"


def test_content_tokens_drop_stop_and_question_words() -> None:
    assert content_tokens("Who attended the meeting in Washington?") == ["attended", "meeting", "washington"]


def test_stem_joins_inflections() -> None:
    assert stem("condemned") == stem("condemns") == stem("condemn")
    assert stem("said") == stem("says") == stem("say")
    assert stem("2+2") == "2+2"


def test_split_paragraphs() -> None:
    assert split_paragraphs("a\nb\n\n\n c \n\n") == ["a\nb", "c"]


# ---- the caches and shortcuts give what the plain computation gives ----------------------------
def strip_accents_by_decomposition(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@given(st.text(max_size=80))
def test_strip_accents_shortcut_for_ascii_changes_nothing(text: str) -> None:
    assert strip_accents(text) == strip_accents_by_decomposition(text)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=14))
def test_stem_memo_gives_the_stemmers_answer(word: str) -> None:
    import snowballstemmer

    from bot.core.text import _IRREGULAR

    want = _IRREGULAR.get(word) or str(snowballstemmer.stemmer("english").stemWord(word))
    assert stem(word) == want
    assert stem(word) == want  # from the memo


def cased_tokens_by_regex(text: str) -> tuple[str, ...]:
    """The tokeniser's rules as plain regex passes, every pass over the whole text."""
    from bot.core.text import (
        _DOTTED_ABBREV,
        _INVISIBLE,
        _NON_WORD,
        _PLUS_RUN,
        _PLUS_SPACED,
        _POSSESSIVE,
        _QUOTE_FOLD,
        CHAT_SPELLINGS,
    )

    folded = strip_accents(_INVISIBLE.sub("", text).translate(_QUOTE_FOLD))
    folded = _POSSESSIVE.sub("", folded).replace("'", "")
    folded = _DOTTED_ABBREV.sub(lambda m: m.group(0).replace(".", ""), folded)
    words = _PLUS_RUN.sub("+", _PLUS_SPACED.sub("+", _NON_WORD.sub(" ", folded)))
    tokens = (raw.strip("+") for raw in words.split())
    return tuple(CHAT_SPELLINGS.get(token.lower(), token) for token in tokens if token)


#: Text with what the tokeniser's shortcuts test for: apostrophes, dots, plus signs, backticks,
#: chat spellings, typographic quotes, accents, invisible marks, emoji.
tokeniser_text = st.lists(
    st.sampled_from(
        [
            *"aZs'`.+ \t\n09?!,-",
            *("\u2019", "\u00e9", "e\u0301", "\u200b", "\u00a0", "\u2014", "\U0001f600", "\u00b4", "\u201c"),
            *("U.S.", "D.C.", "'s", "2+2", " + ", "++", "ur", "Wat", "DONT", "y", "R"),
        ]
    ),
    max_size=30,
).map("".join)


@given(st.one_of(tokeniser_text, any_text))
def test_cased_tokens_shortcuts_give_what_the_regex_passes_give(text: str) -> None:
    from bot.core.text import _INVISIBLE, _QUOTE_FOLD, fold_typography

    assert cased_tokens.__wrapped__(text) == cased_tokens_by_regex(text)
    assert fold_typography(text) == _INVISIBLE.sub("", text).translate(_QUOTE_FOLD)


def test_stemming_on_several_threads_at_once_gives_each_word_its_stem() -> None:
    """Entries are read on the worker pool while the event loop answers: a stemmer shared
    between threads would mix up words mid-stem (and the memo would keep the wrong stem)."""
    import concurrent.futures

    import snowballstemmer

    from bot.core import text

    stems = ("condemn", "attend", "support", "meet", "cooperat")
    words = [f"{w}{suffix}" for w in stems for suffix in ("ed", "ing", "s", "ion", "ions")]
    reference = snowballstemmer.stemmer("english")
    want = {w: text._IRREGULAR.get(w) or str(reference.stemWord(w)) for w in words}

    def stem_all(batch: list[str]) -> dict[str, str]:
        text._STEMS.clear()
        return {w: text.stem(w) for w in batch for _ in range(20)}

    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        for result in pool.map(stem_all, [words] * 16):
            assert result == want
