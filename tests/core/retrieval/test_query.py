"""A question as weighted terms: typos, synonyms, unknown words, and whose words it asks for."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.answers import AnswerService
from bot.core.entities import MIN_FUZZY_CHARS, EntityLexicon, Mention
from bot.core.retrieval import asks_for_words
from bot.core.text import QUESTION_WORDS, STOP_WORDS, cased_tokens


def test_typos_are_tolerated(service: AnswerService) -> None:
    answer = service.answer("who atended the meetng")
    assert answer.entry_id == "attendees"
    query = service.engine.analyze("who atended the meetng")
    assert query.corrections == {"atended": "attended", "meetng": "meeting"}
    assert "Putin" in service.answer("wat did blinkn say abt putin").citations[0].excerpt


def test_unknown_words_that_carry_the_question_make_it_abstain(service: AnswerService) -> None:
    # The Contact Group is known; its budget is not in the article.
    answer = service.answer("What was the budget of the Contact Group?")
    assert not answer.answered
    assert service.engine.analyze("What was the budget of the Contact Group?").oov == ("budget",)


def test_curated_synonyms_read_unknown_words_as_known_ones(service: AnswerService) -> None:
    query = service.engine.analyze("Did they reference the United Nations Charter?")
    assert query.corrections == {"reference": "mention"}
    assert service.answer("What do the pictures show?").entry_id in {
        "photo-who",
        "photo-credit",
        "photo-when-where",
    }


def test_a_country_speaks_through_its_ministers(service: AnswerService) -> None:
    assert service.answer("What did Japan say about China?").answered
    beijing = service.answer("What did Beijing say?")
    assert not beijing.answered and "does not quote China" in beijing.answer


def test_a_name_after_say_about_is_the_topic_not_the_speaker(service: AnswerService) -> None:
    assert service.engine.analyze("what did they say about NATO").speaker is None
    assert service.engine.analyze("a quote from the foreign minister").speaker == "hayashi"
    assert service.engine.analyze("how was the war described in the joint statement").speaker is None


def test_a_name_in_the_possessive_of_a_thing_is_the_topic(service: AnswerService) -> None:
    analyze = service.engine.analyze
    assert analyze("How did Hayashi describe Russia's aggression in his quote?").speaker == "hayashi"
    assert analyze("how was russia's invasion described").speaker is None
    # ... but a country's government, or someone's words, speak for them.
    assert analyze("What did Ukraine's government say?").speaker == "ukraine"
    assert analyze("What were Blinken's words about Japan?").speaker == "blinken"


def test_the_speaker_is_the_subject_of_the_verb_of_speech(service: AnswerService) -> None:
    analyze = service.engine.analyze
    assert analyze("Russia must be accountable for what, the ministers say?").speaker is None
    assert analyze("What did Blinken really say about China?").speaker == "blinken"
    assert analyze("What did Ukraine's government say?").speaker == "ukraine"


def test_of_names_whose_words_only_after_words_of_speech(service: AnswerService) -> None:
    analyze = service.engine.analyze
    assert analyze("what did they say about the attacks on the infrastructure of Ukraine").speaker is None
    assert analyze("what are the remarks of Hayashi").speaker == "hayashi"


def test_a_misspelt_synonym_reads_as_what_it_means(service: AnswerService) -> None:
    # "worrid" is no word the entries use, but a typo of the curated synonym "worried" (concern).
    assert service.engine.analyze("were they worrid about china").corrections == {"worrid": "concern"}


def test_real_words_are_not_corrected_into_other_words(service: AnswerService) -> None:
    # "spending" is not a misspelt "sending", nor "tanks" a misspelt "thanks".
    assert service.engine.analyze("How much is the US spending on Ukraine?").oov == ("spending",)
    assert service.engine.analyze("How many tanks were sent?").corrections == {}
    # The same word in the other spelling is still read as a known word.
    # ("characterize" weighs as a word that asks how, like "describe": it is not looked up.)
    assert service.engine.analyze("Did they criticize Russia?").oov == ()
    assert service.engine.analyze("How did they characterize the war?").oov == ()


def test_asks_for_words_recognises_speech_verbs() -> None:
    assert asks_for_words("What did Blinken say about Putin?")
    assert asks_for_words("any quotes from Austin")
    assert asks_for_words("How did Hayashi describe the war?")
    assert asks_for_words("how did austin characterize the allies")
    assert not asks_for_words("Who attended the meeting?")


# ---- entity recognition: the n-gram shortcut changes nothing ---------------------------------
def plain_recognize(lexicon: EntityLexicon, cased: Sequence[str], vocabulary: set[str]) -> list[Mention]:
    """Every n-gram, longest first, tested as written before the shortcut (which skips n-grams
    that can be neither an alias nor a typo of one without joining them)."""
    lower = [t.lower() for t in cased]
    taken = [False] * len(lower)
    mentions: list[Mention] = []
    for n in range(min(lexicon._max_n, len(lower)), 0, -1):
        keys = lexicon._by_len.get(n)
        if not keys:
            continue
        for i in range(len(lower) - n + 1):
            end = i + n
            if True in taken[i:end]:
                continue
            gram = " ".join(lower[i:end])
            found = lexicon._exact(gram, cased[i:end]) if gram in lexicon._aliases else None
            if found is None:
                words = lower[i:end]
                if words[0] in STOP_WORDS or words[-1] in STOP_WORDS:
                    continue
                if any(w in QUESTION_WORDS for w in words) or all(w in vocabulary for w in words):
                    continue
                if sum(len(w) for w in words) < MIN_FUZZY_CHARS:
                    continue
                found = lexicon._fuzzy(gram, keys)
                if found is None:
                    continue
            entity_id, score = found
            taken[i:end] = [True] * n
            mentions.append(Mention(entity_id, i, end, score, lexicon.entities[entity_id].in_source))
    return sorted(mentions, key=lambda m: m.start)


def test_recognition_equals_the_plain_n_gram_scan_on_real_text(service: AnswerService) -> None:
    lexicon = service.lexicon
    texts = [q for doc in service.engine.documents(None) for q in doc.questions]
    texts += [doc.body for doc in service.engine.documents(None)]
    vocabulary = set(service.engine.index_of(None).vocab)
    for text in texts:
        cased = cased_tokens(text)
        for known in (set(), vocabulary):
            assert lexicon._recognize(cased, known) == plain_recognize(lexicon, cased, known), text


WORDS = ["secretary", "of", "state", "blinken", "blinkn", "hayashi", "japan", "US", "us", "the",
         "who", "foreign", "minister", "united", "states", "nato", "ukrane", "said", "G7", "hiroshima",
         "prime", "kishida", "austin", "lloyd", "defense", "and", "what", "zzz"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(WORDS), max_size=14),
    st.sets(st.sampled_from([w.lower() for w in WORDS])),
)
def test_recognition_equals_the_plain_n_gram_scan(
    service: AnswerService, words: list[str], known: set[str]
) -> None:
    lexicon = service.lexicon
    cased = tuple(words)
    assert lexicon._recognize(cased, known) == plain_recognize(lexicon, cased, known)
