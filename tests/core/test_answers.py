"""The answer service end to end (no Discord, no store): what a person asking gets back."""

from __future__ import annotations

import pytest

from bot.core.answers import NOT_KNOWN, AnswerService


def test_small_talk_always_gets_the_polite_reply(service: AnswerService) -> None:
    # "Who are you?" shares "who" with every question about people; the decline list wins.
    for question in ("Who are you?", "who r u lol", "thank you!"):
        answer = service.answer(question)
        assert not answer.answered and answer.citations == []
        assert "article" in answer.answer.lower() or "hello" in answer.answer.lower()


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("How much money did Japan pledge to Ukraine?", "The article says nothing about \u201cmoney\u201d."),
        ("How many tanks did Germany send to Ukraine?", "The article says nothing about \u201ctanks\u201d."),
        ("How long did the meeting last?", "The article doesn't say how long."),
        ("How old is Hayashi?", "The article doesn't give anyone's age."),
        ("Where was the previous 2+2 meeting held?", ""),
        ("Did Zelensky end up going to Hiroshima?", "doesn't report what happened later"),
        ("What exact date is the Contact Group meeting?", ""),
    ],
)
def test_a_related_entry_does_not_answer_what_it_does_not_say(
    service: AnswerService, question: str, reason: str
) -> None:
    answer = service.answer(question)
    assert not answer.answered, answer.answer
    assert answer.answer.startswith(NOT_KNOWN)
    assert reason in answer.answer
    assert answer.suggestions, "a decline offers the closest questions it can answer"


def test_no_answer_opens_with_yes_unless_it_says_so(service: AnswerService, kb: object) -> None:
    for question in (
        "Did they talk about sanctions on China?",
        "Was China mentioned?",
        "Is Japan supporting Ukraine?",
    ):
        answer = service.answer(question)
        assert not answer.answer.startswith(("Yes", "No")), (question, answer.answer)


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Was the meeting held in Tokyo?", "Washington"),
        ("Was the meeting on a Friday?", "Wednesday"),
        ("Is the Hiroshima summit in June?", "May"),
        ("Is the Contact Group meeting going to be in France?", "Germany"),
    ],
)
def test_a_false_premise_is_corrected(service: AnswerService, question: str, fact: str) -> None:
    answer = service.answer(question)
    assert answer.answered
    assert answer.answer.startswith("No \u2014 ")
    assert fact in answer.answer


def test_a_true_premise_is_answered_without_a_no(service: AnswerService) -> None:
    answer = service.answer("Was the meeting held in Washington?")
    assert answer.answered and "Washington" in answer.answer
    assert not answer.answer.startswith("No")


def test_something_the_article_never_mentions_is_not_corrected_either(service: AnswerService) -> None:
    answer = service.answer("Did they discuss Taiwan at the meeting?")
    assert not answer.answered
    assert "Taiwan" in answer.answer


def test_a_multi_part_question_answers_every_part_with_citations(service: AnswerService) -> None:
    answer = service.answer("Who went and where was it held?")
    assert answer.answered
    assert [p.entry_id for p in answer.parts] == ["attendees", "meeting-location"]
    assert all(p.answered and p.citations for p in answer.parts)
    # The union: a client that ignores `parts` still gets every fact with its citation.
    assert "Blinken" in answer.answer and "Washington" in answer.answer
    excerpts = {c.excerpt for c in answer.citations}
    assert {c.excerpt for p in answer.parts for c in p.citations} == excerpts
    contract = answer.contract()
    assert [p["entry_id"] for p in contract["parts"]] == ["attendees", "meeting-location"]  # type: ignore[index]
    assert "parts" not in service.answer("Who attended?").contract()


def test_a_part_the_article_does_not_answer_is_named_not_echoed(service: AnswerService) -> None:
    answer = service.answer("Who attended, and how much money did Japan pledge @everyone?")
    assert answer.answered
    assert [p.answered for p in answer.parts] == [True, False]
    assert "(second part) " + NOT_KNOWN in answer.answer
    assert "@everyone" not in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "Hi! I'm writing a report for my politics class and my teacher said to use this article. "
        "Which city was the meeting held in?",
        "ok so wher did they meet lol",
        "where was da mtg held??? 😂",
    ],
)
def test_preamble_and_chat_noise_do_not_count_against_a_question(
    service: AnswerService, question: str
) -> None:
    answer = service.answer(question)
    assert answer.answered and answer.entry_id == "meeting-location", answer.answer


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("The article was published on January 20, 2023, wasn't it?", "January 12"),
        ("Was the Japanese foreign minister at the meeting Kishida?", "Hayashi"),
        ("The next Contact Group meeting was going to be in Poland, correct?", "Germany"),
        ("I think the Hiroshima summit was set for June - is that so?", "May"),
    ],
)
def test_statements_put_up_for_confirmation_are_corrected(
    service: AnswerService, question: str, fact: str
) -> None:
    answer = service.answer(question)
    assert answer.answered and answer.answer.startswith("No \u2014 "), answer.answer
    assert fact in answer.answer


def test_someone_the_article_never_mentions_is_not_corrected_into_someone_else(
    service: AnswerService,
) -> None:
    answer = service.answer("Did Prime Minister Kishida attend the meeting?")
    assert not answer.answered and "Kishida" in answer.answer


def test_an_outlet_that_reported_is_answered_a_person_never_quoted_is_not(service: AnswerService) -> None:
    assert service.answer("wat did nikkei say").entry_id == "nikkei-report"
    putin = service.answer("What did Putin say about the meeting?")
    assert not putin.answered and "does not quote" in putin.answer


def test_suggestions_are_questions_not_keywords(service: AnswerService) -> None:
    answer = service.answer("putin birthday")  # matched the keyword phrasing "putin"
    assert not answer.answered and answer.suggestions
    assert all(s.endswith("?") and len(s.split()) >= 3 for s in answer.suggestions), answer.suggestions


def test_a_persons_pronoun_stands_for_the_person_named_before(service: AnswerService) -> None:
    answer = service.answer("Who is the U.S. Secretary of State? And what did he say about Japan?")
    assert [part.entry_id for part in answer.parts] == ["who-is-blinken", "blinken-japan-partner"]


def test_a_yes_no_question_turns_on_the_things_it_names_not_on_its_verbs(service: AnswerService) -> None:
    # "rebuilding" is not the article's word, but the grid it asks about is.
    rebuilt = service.answer("Did Blinken talk about rebuilding Ukraine's energy grid?")
    assert rebuilt.answered and rebuilt.entry_id == "ukraine-energy"
    # "troops" is a thing the article never mentions: the question turns on it.
    troops = service.answer("Is Japan sending troops to Ukraine?")
    assert not troops.answered and "\u201ctroops\u201d" in troops.answer


def test_words_of_the_background_the_knowledge_base_never_uses_do_not_dilute_it(
    service: AnswerService,
) -> None:
    answer = service.answer(
        "A blog post I was proofreading yesterday claims the two sides discussed next steps for one "
        "particular part of Ukraine's economy. Which sector was that?"
    )
    assert answer.answered and answer.entry_id == "ukraine-energy"
    # "Does the article say?" asks about its background: there, an unknown word is the point.
    weather = service.answer(
        "Our club saw coats in the photo and wondered about the weather in DC that day. Does the article say?"
    )
    assert not weather.answered, weather.answer


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("Is Hayashi the defense minister?", "who-is-hayashi"),
        ("Austin is the Secretary of State, right?", "who-is-austin"),
        ("Was Blinken the Secretary of Defense?", "who-is-blinken"),
    ],
)
def test_a_person_said_to_be_someone_else_is_corrected_with_who_they_are(
    service: AnswerService, question: str, entry_id: str
) -> None:
    answer = service.answer(question)
    assert answer.entry_id == entry_id and answer.answer.startswith("No \u2014"), answer.answer
    # The true identity is confirmed without a "No".
    assert not service.answer("Is Austin the Secretary of Defense?").answer.startswith("No")


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("Were there five ministers at the meeting?", "four ministers"),
        ("Will about 100 defense ministers go to the Germany meeting?", "50 or so"),
        ("Was the 2+2 held in 2022?", "2023"),
    ],
)
def test_a_wrong_count_or_year_is_corrected(service: AnswerService, question: str, fact: str) -> None:
    answer = service.answer(question)
    assert answer.answer.startswith("No \u2014") and fact in answer.answer, answer.answer


def test_a_count_that_refers_or_holds_is_no_false_premise(service: AnswerService) -> None:
    # "the two countries" names who, not how many; "four ministers" is what the article says.
    for question in ("Did the two countries condemn Russia?", "Were there four ministers at the meeting?"):
        answer = service.answer(question)
        assert answer.answered and not answer.answer.startswith("No"), (question, answer.answer)
    # A year the article states is the setting of the question, not a claim about when.
    g7 = service.answer("Does Japan hold the G7 presidency in 2023?")
    assert g7.answered and not g7.answer.startswith("No"), g7.answer


def test_a_count_is_about_what_is_counted_not_the_verb_of_coming(service: AnswerService) -> None:
    answer = service.answer("how many defense ministers are turning up in germany next week")
    assert answer.answered and "50" in answer.answer, answer.answer


@pytest.mark.parametrize(
    ("question", "entry_id"),
    [
        ("Was the meeting in DC or Tokyo?", "meeting-location"),
        ("was the mtg on wed or thurs", "meeting-date"),
        ("Was it the 2022 or the 2023 meeting?", "meeting-date"),
        ("Did they condemn Russia or China?", "what-was-condemned"),
        ("drills near japan or taiwan?", "drills-near-japan"),
        ("Was the meeting itself on January 11 or January 12?", "meeting-date"),
    ],
)
def test_a_choice_is_answered_with_which_one(service: AnswerService, question: str, entry_id: str) -> None:
    answer = service.answer(question)
    assert answer.entry_id == entry_id, answer.answer
    assert not answer.answer.startswith(("Yes", "No")), answer.answer


def test_small_talk_that_shares_only_a_question_word_does_not_answer(service: AnswerService) -> None:
    # "Where are you from?" is a decline phrasing; "drills where" is not small talk.
    assert service.answer("drills where").entry_id == "drills-near-japan"
    assert not service.answer("where are you from").answered


def test_a_topic_the_article_never_mentions_is_not_corrected_from_generic_words(
    service: AnswerService,
) -> None:
    # "ministers", "discuss", "meeting" could be said of any entry: the agenda does not say that
    # Taiwan was not discussed, so the honest reply is that the article does not mention it.
    answer = service.answer("Did the ministers discuss Taiwan at the meeting?")
    assert not answer.answered and "Taiwan" in answer.answer, answer.answer


def test_a_later_question_that_names_nothing_is_about_the_occasion_named_before(
    service: AnswerService,
) -> None:
    answer = service.answer("Where is the Contact Group meeting next? Also, how many ministers will attend?")
    assert [part.entry_id for part in answer.parts] == [
        "contact-group-when-where",
        "contact-group-participants",
    ]
    # The 2+2 itself is what every question is about already.
    plain = service.answer("Who went to the 2+2 and where was it held?")
    assert [part.entry_id for part in plain.parts] == ["attendees", "meeting-location"]


def test_other_is_beyond_the_article_only_in_a_first_question(service: AnswerService) -> None:
    beyond = service.answer("Which other countries' leaders are invited to the Hiroshima summit?")
    assert not beyond.answered, beyond.answer
    after = service.answer("Which continent is the war in? And which other region does it affect?")
    assert after.parts and after.parts[1].answered, after.answer


def test_a_weekday_is_a_date(service: AnswerService) -> None:
    answer = service.answer("On which weekday did the ministers get together?")
    assert answer.answered and "Wednesday" in answer.answer, answer.answer


def test_whose_words_are_asked_for_is_named_in_the_question_itself(service: AnswerService) -> None:
    answer = service.answer(
        "My sister follows this closely. She asked whether there was any mention of Zelensky being "
        "invited somewhere. What did the article say?"
    )
    assert "does not quote" not in answer.answer, answer.answer


@pytest.mark.parametrize(
    ("question", "entry_id", "written"),
    [
        ("What is Blinken's middle initial?", "who-is-blinken", "Antony J. Blinken"),
        ("What's the US defense secretary's first name?", "who-is-austin", "Lloyd J. Austin III"),
        ("How do you spell the Japanese foreign minister's name?", "who-is-hayashi", "Hayashi Yoshimasa"),
    ],
)
def test_how_a_persons_name_is_written_is_answered_by_who_they_are(
    service: AnswerService, question: str, entry_id: str, written: str
) -> None:
    answer = service.answer(question)
    assert answer.entry_id == entry_id and written in answer.answer, answer.answer


def test_the_names_of_two_people_are_answered_one_part_each(service: AnswerService) -> None:
    answer = service.answer("What are the full names of Blinken and Austin?")
    assert [part.entry_id for part in answer.parts] == ["who-is-blinken", "who-is-austin"]
    assert "Antony J. Blinken" in answer.answer and "Lloyd J. Austin III" in answer.answer


def test_what_someone_pledged_is_answered_by_their_words(service: AnswerService) -> None:
    answer = service.answer("Did Austin pledge to support Ukraine for as long as it takes?")
    assert answer.answered and "as long as it takes" in answer.answer, answer.answer


def test_another_country_in_a_stated_concern_is_corrected(service: AnswerService) -> None:
    answer = service.answer(
        "The ministers were concerned about Russia's military cooperation with Iran, right?"
    )
    assert answer.answer.startswith("No \u2014") and "China" in answer.answer, answer.answer


def test_a_nationality_picks_out_that_countrys_people(service: AnswerService) -> None:
    # "Japanese" is one word away from the American delegation's "Which American ministers ...?".
    japanese = service.answer("Which Japanese ministers took part in the 2+2 talks?")
    assert japanese.answered and "Hamada" in japanese.answer and "Hayashi" in japanese.answer
    assert service.answer("Who represented Japan?").entry_id == "japan-delegation"
    assert service.answer("who came from the US").entry_id == "us-delegation"
    # A question about someone else the country did something to is not about its people.
    assert service.answer("Who did Japan invite to the G7?").entry_id == "zelensky-g7-invitation"


def test_a_country_that_only_describes_the_meeting_is_not_where_it_was(service: AnswerService) -> None:
    # "US-Japan" names the meeting, not a place it was held in; "in Germany" does name the place.
    for question in ("Where was the US-Japan security meeting held?", "where was the us japan mtg tho"):
        answer = service.answer(question)
        assert answer.answered and "Washington" in answer.answer, question
    assert not service.answer("Which city in Germany is hosting the Contact Group?").answered
    assert not service.answer("Which country held the G7 presidency before Japan?").answered


def test_two_questions_in_a_row_are_both_answered(service: AnswerService) -> None:
    answer = service.answer("who attended? where was it?")
    assert [p.entry_id for p in answer.parts] == ["attendees", "meeting-location"]
    when = service.answer("where was the meeting? when?")
    assert [p.entry_id for p in when.parts] == ["meeting-location", "meeting-date"]


def test_the_next_occasion_is_the_one_said_to_come_next_week(service: AnswerService) -> None:
    answer = service.answer(
        "Did Austin say about 30 defense ministers would attend the next contact group meeting?"
    )
    assert answer.answer.startswith("No") and "50" in answer.answer


def test_a_name_asked_for_by_role_is_who_holds_it(service: AnswerService) -> None:
    answer = service.answer("What is the name of Japan's Defense Minister mentioned in the article?")
    assert answer.entry_id == "who-is-hamada"
    # The name of a group someone spoke of is not that person's name.
    assert (
        service.answer("What's the name of the group Austin said would meet next week?").entry_id
        != "who-is-austin"
    )


def test_a_curated_does_not_say_replies_only_to_what_it_is_about(service: AnswerService) -> None:
    # The article does not quote Hamada: that answers "what did he say", not "what is his name".
    assert "does not quote" in service.answer("What did Japan's defense minister say about China?").answer
    assert "does not quote" not in service.answer("What is the name of Japan's Defense Minister?").answer


def test_a_statement_named_as_the_source_is_not_a_speaker(service: AnswerService) -> None:
    for question in (
        "Where were the China-Russia drills happening according to the statement?",
        "Where were the China-Russia joint operations and drills said to be taking place?",
    ):
        answer = service.answer(question)
        assert answer.answered and "vicinity of Japan" in answer.answer + str(answer.citations), question


def test_what_someone_said_is_answered_with_their_words(service: AnswerService) -> None:
    assert service.answer("What did Austin say to the reporters?").entry_id == "austin-said"


def test_chat_approval_is_endorsement(service: AnswerService) -> None:
    answer = service.answer("so is the us cool w japan doing nato stuff or nah")
    assert answer.entry_id == "nato-itpp"


def test_the_askers_own_description_is_checked_against_the_articles(service: AnswerService) -> None:
    # Neither "tense" nor "difficult" is the article's word: the reply is how Hayashi described
    # the talks, neither confirmed nor a decline.
    for question in ("Hayashi called the talks tense and difficult, didn't he?", "Was the meeting tense?"):
        answer = service.answer(question)
        assert answer.answered and "meaningful" in answer.answer, question
        assert not answer.answer.startswith(("Yes", "No")), question


def test_his_in_a_later_part_is_the_person_the_first_part_found(service: AnswerService) -> None:
    answer = service.answer("Who said they'd support Ukraine 'for as long as it takes', and what's his job?")
    assert [p.entry_id for p in answer.parts] == ["austin-as-long-as-it-takes", "who-is-austin"]


def test_a_later_part_leans_on_the_topic_not_the_question_before(service: AnswerService) -> None:
    # "what will they talk about?" is about the ministers in Germany, not how many they are.
    answer = service.answer(
        "How many defense ministers will gather in Germany, and what will they talk about?"
    )
    assert [p.entry_id for p in answer.parts] == ["contact-group-participants", "contact-group-purpose"]


def test_an_entry_stating_no_kind_of_fact_does_not_crowd_out_one_that_does(service: AnswerService) -> None:
    # "What was the meeting about?" fits the words, but says nobody's name.
    assert (
        service.answer("Who were the two Japanese ministers at the meeting?").entry_id == "japan-delegation"
    )


def test_the_summit_is_the_one_summit_the_article_names(service: AnswerService) -> None:
    answer = service.answer("which summit did Blinken mention?")
    assert answer.answered and "Hiroshima" in answer.answer


def test_no_correction_from_an_entry_about_someone_else(service: AnswerService) -> None:
    # Austin's words on what the US does neither confirm nor deny what Japan will send.
    answer = service.answer("Is Japan going to send lethal weapons to Ukraine?")
    assert not answer.answered and not answer.answer.startswith("No")


def test_a_guess_in_the_background_is_not_what_a_question_asks(service: AnswerService) -> None:
    answer = service.answer("I assumed Tokyo. Where did they meet?")
    assert answer.answered and "Washington" in answer.answer


def test_a_counterpart_is_the_same_portfolio_on_the_other_side(service: AnswerService) -> None:
    answer = service.answer("Who is the US defense secretary and who is his Japanese counterpart?")
    assert [p.entry_id for p in answer.parts] == ["who-is-austin", "who-is-hamada"]


def test_who_took_the_photo_is_its_credit(service: AnswerService) -> None:
    assert service.answer("Who took the photo of the joint news conference?").entry_id == "photo-credit"


def test_a_country_in_place_of_the_one_the_article_names_is_corrected(service: AnswerService) -> None:
    # "worried" reads as the entry's "concern": the entry says the rest, with China.
    answer = service.answer("Were the ministers worried about Russia's cooperation with North Korea?")
    assert answer.answer.startswith("No") and "China" in answer.answer


def test_besides_what_the_asker_has_the_rest_of_the_list(service: AnswerService) -> None:
    answer = service.answer("What did the ministers condemn Russia for besides the war itself?")
    assert answer.answered and "nuclear rhetoric" in answer.answer
    # ... but nobody beyond the four ministers, nor other issues of a kind the entry does not list.
    assert not service.answer("Who else attended besides the four ministers?").answered
    assert not service.answer("What were the other priority issues on the agenda besides Ukraine?").answered


def test_where_someone_said_things_stand_is_in_their_words(service: AnswerService) -> None:
    answer = service.answer("Where did Hayashi say Russia's aggression has left the international community?")
    assert answer.answered and "crossroads" in answer.answer + str(answer.citations)


def test_the_articles_latin_is_found(service: AnswerService) -> None:
    answer = service.answer("Which Latin expression does the article use for Hayashi's outcomes?")
    assert answer.entry_id == "inter-alia"


def test_an_entry_about_another_occasion_does_not_answer_for_this_one(service: AnswerService) -> None:
    # How long support will last is not how long the news conference lasted.
    assert not service.answer("How long did the joint news conference last?").answered
    assert not service.answer(
        "Which US official will lead the American delegation to the Hiroshima G7 summit?"
    ).answered
    assert service.answer("When is the Hiroshima summit?").entry_id == "hiroshima-summit"


def test_x_or_other_things_is_asked_about_both(service: AnswerService) -> None:
    answer = service.answer("Is Japan going to send tanks or other military equipment to Ukraine?")
    assert not answer.answered and "tanks" in answer.answer


def test_an_organisation_that_reported_nothing_is_not_quoted(service: AnswerService) -> None:
    assert (
        "does not quote NATO"
        in service.answer("What did NATO officials say about Japan's partnership program?").answer
    )
    assert service.answer("What did Nikkei say?").entry_id == "nikkei-report"


def test_a_misspelt_word_is_read_as_the_word_the_entries_use(service: AnswerService) -> None:
    # "agensy" misspells "agency" (the photo's credit), though no entry word is as close.
    assert service.answer("Which news agensy is the foto from?").entry_id == "photo-credit"


def test_words_that_ask_for_wording_are_not_the_topic(service: AnswerService) -> None:
    # "word" and "use" say what is asked; "nuclear rhetoric" is what it is about.
    answer = service.answer("What word did the ministers use to describe Russia's nuclear rhetoric?")
    assert answer.entry_id == "nuclear-rhetoric" and "reckless" in answer.answer


def test_a_synonym_of_a_qualifier_reads_as_the_entrys_word(service: AnswerService) -> None:
    # "upcoming" is the entry's "next": the qualifier holds.
    answer = service.answer("How many defense ministers are expected at the upcoming Contact Group meeting?")
    assert answer.answered and "50" in answer.answer


def test_how_something_was_characterised_turns_on_what_not_on_the_verb(service: AnswerService) -> None:
    answer = service.answer("How did the joint statement characterize Russia's nuclear rhetoric?")
    assert answer.entry_id == "nuclear-rhetoric"


def test_two_of_a_sides_people_need_an_entry_naming_both(service: AnswerService) -> None:
    answer = service.answer(
        "I've got the American names down but I completely blanked on the Japanese side. "
        "Which two Japanese ministers were there?"
    )
    assert answer.entry_id == "japan-delegation"
    assert (
        service.answer("Which two Japanese ministers took part in the talks?").entry_id == "japan-delegation"
    )


def test_a_curated_synonym_reads_the_same_even_where_an_entry_uses_the_word(service: AnswerService) -> None:
    # "backing" is "support" (synonyms.yaml), though some entry says "back": how long, per Austin.
    answer = service.answer("how long is the us gonna keep backing ukraine acc to austin")
    assert answer.entry_id == "austin-as-long-as-it-takes"
