"""The typo index gives what a plain scan of the sorted words gives, as words come and go."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from bot.core.retrieval import DEFAULT_WEIGHTS, Vocabulary

WORDS = st.text(alphabet="abcdeo", min_size=1, max_size=9)


def closest_by_scan(token: str, counts: dict[str, int]) -> tuple[str, float] | None:
    """Typo correction by definition: the best ratio in the band, then the word more documents
    use, then the alphabetically first."""
    band = [w for w in counts if abs(len(w) - len(token)) <= DEFAULT_WEIGHTS.typo_length_band]
    scored = [(fuzz.ratio(token, w), w) for w in band]
    scored = [(score, w) for score, w in scored if score >= DEFAULT_WEIGHTS.typo_cutoff]
    if not scored:
        return None
    score, word = min(scored, key=lambda f: (-f[0], -counts[f[1]], f[1]))
    return word, float(score)


@settings(max_examples=150, deadline=None)
@given(st.lists(WORDS, max_size=40), st.lists(WORDS, max_size=15), st.lists(WORDS, min_size=1, max_size=8))
def test_vocabulary_agrees_with_a_sorted_scan(
    added: list[str], removed: list[str], tokens: list[str]
) -> None:
    vocab = Vocabulary()
    counts: dict[str, int] = {}
    vocab.add(added)
    for word in added:
        counts[word] = counts.get(word, 0) + 1
    for token in tokens:  # fill the memo before the words change
        vocab.closest(token)
    vocab.remove(removed)
    for word in removed:
        if word in counts:
            counts[word] -= 1
            if not counts[word]:
                del counts[word]
    words = set(counts)
    assert list(vocab) == sorted(words)
    assert len(vocab) == len(words)
    for token in tokens:
        assert vocab.closest(token) == closest_by_scan(token, counts)
        prefix = token[:2]
        assert vocab.with_prefix(prefix, 8) == [w for w in sorted(words) if w.startswith(prefix)][:8]
        assert (token in vocab) == (token in words)


def test_typo_memo_forgets_when_a_closer_word_arrives() -> None:
    vocab = Vocabulary()
    vocab.add(["meeting"])
    assert vocab.closest("meetinga") == ("meeting", fuzz.ratio("meetinga", "meeting"))
    vocab.add(["meetinga"])
    assert vocab.closest("meetinga") == ("meetinga", 100.0)
    vocab.remove(["meetinga"])
    assert vocab.closest("meetinga") == ("meeting", fuzz.ratio("meetinga", "meeting"))


def test_cut_off_and_length_band_come_from_the_weights() -> None:
    ratio = fuzz.ratio("meetinga", "meeting")  # about 93: a correction with the default weights
    strict = Vocabulary(dataclasses.replace(DEFAULT_WEIGHTS, typo_cutoff=ratio + 1))
    strict.add(["meeting"])
    assert strict.closest("meetinga") is None
    assert strict.closest("meeting") == ("meeting", 100.0)
    narrow = Vocabulary(dataclasses.replace(DEFAULT_WEIGHTS, typo_length_band=0))
    narrow.add(["meeting"])
    assert narrow.closest("meetinga") is None  # one letter longer: outside a band of 0
    assert narrow.closest("meetimg") == ("meeting", fuzz.ratio("meetimg", "meeting"))


def test_on_a_tie_the_word_more_documents_use_wins() -> None:
    vocab = Vocabulary()
    vocab.add(["meaning", "meeting"])
    vocab.add(["meeting"])
    # "meating" is one letter from both: the knowledge base's common word is meant.
    assert vocab.closest("meating") == ("meeting", fuzz.ratio("meating", "meeting"))
