"""The answer service: question in, `Answer` out. Every adapter (CLI, Discord, tests) uses it.

It never invents: an answer is a curated entry's text plus excerpts proven verbatim at load
time; below the confidence threshold it abstains and offers the closest questions it can answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process

from bot.core.answerability import (
    Asked,
    Premise,
    asked_side,
    contradicts,
    identity_claim,
    judge,
    of_the_side,
    premise_of,
    says_the_rest,
    states_facet,
)
from bot.core.documents import Document, decline_document, entry_document, quote_document
from bot.core.english import describes, is_english_word, names_a_thing
from bot.core.entities import EntityLexicon
from bot.core.fallback import ArticleFallback
from bot.core.limits import MAX_QUESTION_CHARS
from bot.core.loader import KnowledgeBase
from bot.core.models import Entity, Entry, Quote, Scope
from bot.core.offload import run_heavy
from bot.core.references import facet_of_choice, occasion_before, with_counterpart_named, with_person_named
from bot.core.retrieval import DEFAULT_WEIGHTS, Match, QueryAnalysis, RetrievalEngine, Weights, asks_for_words
from bot.core.retrieval.vocabulary import Vocabulary
from bot.core.text import QUESTION_WORDS, STOP_WORDS, cased_tokens, normalize_query
from bot.core.understanding import MAX_PARTS, Part, understand
from bot.core.understanding.focus import MISSING, Focus, choice_of, focus_of
from bot.core.understanding.question import asks_with_a_question_word, with_default_subject

NOT_KNOWN = "I don't know that from the article."
#: Facets whose object the question names: "How many *tanks*" is about tanks.
QUANTITY_FACETS = frozenset({"number", "duration", "age", "time"})
#: The question word a yes/no premise stands for ("held in Tokyo?" asks where).
PREMISE_QUESTION_WORDS = {"place": "where", "date": "when", "number": "how many", "person": "who"}
#: rapidfuzz ratio (0..100) of the whole cleaned message to a decline phrasing for the polite
#: reply to win over any entry ("who are you" is small talk, not a question about attendees).
DECLINE_CUTOFF = 90.0
#: Entries re-scored per question: the answer is among the best few, and the suggestions offered
#: with a decline are the first three (fewer candidates, less re-scoring: same answers on train/dev).
CANDIDATES = 5
#: Topic words a question needs before an article sentence may answer it.
FALLBACK_MIN_WORDS = 2
#: rapidfuzz score (0..100) a quotation needs to count as being about a /quote topic.
QUOTE_TOPIC_CUTOFF = 80.0


class CitationOut(BaseModel):
    excerpt: str
    source: str
    location: str
    speaker: str | None = None


class Answer(BaseModel):
    """The answer contract (DESIGN.md), plus the matched question for display."""

    question: str
    answered: bool
    answer: str
    confidence: float = Field(ge=0.0, le=1.0)
    citations: list[CitationOut] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list)
    entry_id: str | None = None
    # Not part of the contract: what adapters need to display and follow up on an answer.
    matched_question: str | None = None
    #: The document key behind each suggestion, so choosing one needs no second search.
    suggestion_keys: list[str] = Field(default_factory=list)
    #: One answer per part of a multi-part question ("who went and where was it held?"); empty
    #: for a single question. `answer` and `citations` are then the union of the answered parts.
    parts: list[Answer] = Field(default_factory=list)

    def contract(self) -> dict[str, object]:
        hidden = {"matched_question", "suggestion_keys"}
        out = self.model_dump(exclude=hidden | {"parts"})
        if self.parts:
            out["parts"] = [part.model_dump(exclude=hidden | {"parts"}) for part in self.parts]
        return out


class AnswerService:
    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        answer_threshold: float | None = None,
        suggestion_threshold: float | None = None,
        max_suggestions: int = 3,
        weights: Weights = DEFAULT_WEIGHTS,
    ) -> None:
        self.kb = kb
        #: How citations name each source (formatted once: every answer cites).
        self._source_labels = {key: source.label() for key, source in kb.sources.items()}
        self.weights = weights
        self.answer_threshold = weights.answer_threshold if answer_threshold is None else answer_threshold
        self.suggestion_threshold = (
            weights.suggestion_threshold if suggestion_threshold is None else suggestion_threshold
        )
        self.max_suggestions = max_suggestions
        self.lexicon = EntityLexicon(kb.entities)
        self.engine = RetrievalEngine(self.lexicon, kb.synonyms, weights=weights)
        for entry in kb.entries:
            self.engine.index_document(entry_document(entry, None, self.lexicon))
        for quote in kb.quotes:
            self.engine.index_document(quote_document(quote, self.lexicon))
        self._decline_docs: list[Document] = []
        self._decline_keys: list[str] = []
        for decline in kb.declines:
            doc = decline_document(decline)
            self.engine.index_document(doc)
            for phrasing in doc.questions:
                self._decline_docs.append(doc)
                self._decline_keys.append(normalize_query(phrasing))
        self.fallback = ArticleFallback(kb.sources, kb.texts, self.lexicon, weights)
        #: Server entries being read on the worker pool, and the turn of the latest change of
        #: each (see `upsert_entry_soon`).
        self._index_turn = 0
        self._latest_turn: dict[tuple[Scope, str], int] = {}
        # Offered when nothing is close: the first phrasing of entries tagged "starter".
        starters = [e for e in kb.entries if "starter" in e.tags] or kb.entries[:3]
        self.starters: list[tuple[str, str]] = [(e.questions[0], e.id) for e in starters]

    # ---- keeping the index current ------------------------------------------------------
    def upsert_entry(self, scope: Scope, entry: Entry) -> None:
        self._supersede(scope, entry.id)
        self.engine.index_document(entry_document(entry, scope, self.lexicon))

    async def upsert_entry_soon(self, scope: Scope, entry: Entry) -> None:
        """`upsert_entry` with the reading of the entry (entity recognition over every phrasing,
        tens of milliseconds for a maximum-size entry of unknown words) on the worker pool: the
        event loop only inserts the prepared document. If the entry was changed or removed
        again meanwhile, the later change wins and this document is dropped."""
        key = (scope, entry.id)
        turn = self._index_turn = self._index_turn + 1
        self._latest_turn[key] = turn
        document, fields = await run_heavy(self._read_entry, scope, entry)
        latest = self._latest_turn.get(key)
        if latest in (turn, _SUPERSEDED):
            del self._latest_turn[key]
        if latest == turn:
            self.engine.index_document(document, fields)

    def _read_entry(
        self, scope: Scope, entry: Entry
    ) -> tuple[Document, tuple[dict[str, float], dict[str, None]]]:
        document = entry_document(entry, scope, self.lexicon)
        return document, self.engine.fields_of(document)

    def remove_entry(self, scope: Scope, entry_id: str) -> None:
        self._supersede(scope, entry_id)
        self.engine.remove_document(scope, entry_id)

    def _supersede(self, scope: Scope, entry_id: str) -> None:
        """A change made now is later than any reading still in progress: those are dropped
        (an upsert being prepared must not undo this edit or bring back a removed entry)."""
        if (scope, entry_id) in self._latest_turn:
            self._latest_turn[scope, entry_id] = _SUPERSEDED

    # ---- answering ----------------------------------------------------------------------
    def answer(self, question: str, scope: Scope = None) -> Answer:
        text = question.strip()
        # Length first: an over-long question is refused before any work is spent on it.
        if len(text) > MAX_QUESTION_CHARS:
            return self._abstain(
                question,
                f"That question is too long ({len(text):,} characters); "
                f"please keep it under {MAX_QUESTION_CHARS:,} characters.",
                [],
            )
        if not normalize_query(text):
            return self._abstain(
                question, "Ask me a question about the U.S.\u2013Japan 2+2 meeting of January 11, 2023.", []
            )
        understood = understand(text)
        # Small talk and questions about the bot always get the polite reply, whatever an entry
        # scores: "Who are you?" is not a question about who attended.
        decline = self._decline_for(understood.cleaned)
        if decline is not None:
            return self._abstain(question, decline.answer, [])
        if len(understood.parts) == 1:
            return self._answer_leaning(question, understood.parts[0], scope)
        answers: list[Answer] = []
        found = ""  # the person an earlier part's answer is about ("Who said X, and what's his job?")
        for part in understood.parts:
            if found:
                part = replace(part, before=f"{part.before} {found}".strip())
            answer = self._answer_leaning(part.question, part, scope)
            answers.append(answer)
            found = self._person_answered(part, answer, scope) or found
        return _combine(question, answers)

    def _person_answered(self, part: Part, answer: Answer, scope: Scope) -> str:
        """The one person a "who" question's answer is about ("Who said 'as long as it takes'?"
        -> Austin), so a later part's "his" stands for them; "" otherwise."""
        if not answer.answered or answer.entry_id is None or focus_of(part.question).facet != "person":
            return ""
        doc = self.document(scope, answer.entry_id)
        if doc is None:
            return ""
        people = {e for e in doc.speakers | doc.entities if self.lexicon.kind(e) == "person"}
        return self.lexicon.entities[people.pop()].name if len(people) == 1 else ""

    def _decline_for(self, cleaned: str) -> Document | None:
        key = normalize_query(cleaned)
        found = process.extractOne(
            key, self._decline_keys, scorer=fuzz.ratio, processor=None, score_cutoff=DECLINE_CUTOFF
        )
        return self._decline_docs[found[2]] if found is not None else None

    def _answer_leaning(self, question: str, part: Part, scope: Scope) -> Answer:
        """A question that points back is answered with what it points to, alone, or both ways
        in the order the part says (see `Part`); the first answer that answers wins."""
        part = with_counterpart_named(with_person_named(part, self.lexicon), self.lexicon)
        occasion = occasion_before(part, self.lexicon)
        if occasion is not None:
            # "Where is the Contact Group meeting? Also, how many ministers will attend?": a later
            # question that names nothing is about the occasion the one before it named.
            about = self._answer_part(
                question, replace(part, question=f"{part.question} ({occasion})"), scope
            )
            if about.answered:
                return about
        alone = Part(with_default_subject(part.question))
        if part.leans:
            leaned = self._answer_part(question, part, scope)
            if leaned.answered or alone.question == part.question:
                return leaned
            # "Who attended? Where was it?": an event's "it" that the question before does not
            # explain is the meeting.
            return self._answer_part(question, alone, scope)
        if not part.context:
            return self._answer_part(question, alone, scope)
        tries = [part, alone] if part.context_first else [alone, part]
        first = self._answer_part(question, tries[0], scope)
        return first if first.answered else self._answer_part(question, tries[1], scope)

    def _answer_part(self, question: str, part: Part, scope: Scope, *, premised: bool = True) -> Answer:
        """Answer one question (a whole message, or one part of a multi-part one).

        Retrieval ranks the entries most about the question; the first of those above the
        threshold (and near the best) that states the kind of fact asked for answers it (see
        `answerability`). Otherwise the bot declines and says what the article does not give.
        """
        if _NAME_FORM.search(part.question):
            # "What is Blinken's middle initial?": the entry on who that person is gives the name
            # in full, as the article writes it (one entry per person named).
            named = self._who_are_named(part.question, scope)
            if len(named) == 1:
                return self._answered(question, named[0])
            if named:
                return _combine(question, [self._answered(question, match) for match in named])
        person = self._name_asked_of(part.question)
        if person is not None:
            # "What is the name of Japan's Defense Minister?": who holds that role.
            who = self._who_is(person, scope)
            if who is not None:
                return self._answered(question, who)
        focus = focus_of(part.question)
        text = self._search_text(part, focus, scope)
        if focus.others and part.before:
            # "... where, and which other region?": other than what the message already asked
            # about, which the article may well name; only a first question's "other" is beyond it.
            focus = replace(focus, others=False)
        search_text = text
        # A choice is asked as a yes/no question or elliptically ("drills near Japan or Taiwan?").
        elliptic = not asks_with_a_question_word(part.question)
        choice = choice_of(part.question) if focus.yes_no or elliptic else None
        if choice is not None:
            # "Was it in DC or Tokyo?" asks which: look for where, without either alternative.
            facet = facet_of_choice(choice, self.lexicon)
            focus = replace(focus, yes_no=False, facet=facet or focus.facet)
            asking = PREMISE_QUESTION_WORDS.get(facet or "", "")
            text = search_text = f"{choice.rest} {asking} {part.context}".strip()
        premise = (
            self._premise(part.question)
            if focus.yes_no and focus.facet is None and premised and choice is None
            else None
        )
        if premise is not None:
            # "Was it held in Tokyo?" asks where it was held: look for where, then compare.
            focus = replace(focus, facet=premise.facet)
            search_text = f"{premise.rest} {PREMISE_QUESTION_WORDS[premise.facet]} {part.context}".strip()
        elif focus.yes_no and choice is None:
            search_text = self._without_descriptions(search_text, scope)
        # A question about one side's people reads past the other side's entries ("Which two
        # Japanese ministers ...?" first finds the American delegation and the diplomats).
        side = asked_side(part.question, self.lexicon)
        sided = focus.facet in {"person", "role"} and side is not None
        query, matches = self.engine.search(search_text, scope, limit=2 * CANDIDATES if sided else CANDIDATES)
        claim = identity_claim(part.question, self.lexicon) if focus.yes_no else None
        if claim is not None:
            # "Is Hayashi the defense minister?": two people the article names, said to be one.
            who = self._who_is(claim.person, scope, first=matches, not_of=claim.claimed)
            if who is not None:
                return self._answered(question, who, correction=True)
        # What the question names, premise included ("Tokyo" in "Was it held in Tokyo?").
        named_in = query if search_text == text else self.engine.analyze(text, scope)
        asked = Asked(
            text=part.question,
            focus=focus,
            named=named_in.entities | frozenset(named_in.unknown_entities),
            unknown=self._unknown_asked(part, focus, named_in),
            read_as=self._read_as(part.question, named_in),
            background=part.context,
            side=side,
            premise=premise,
            # Words the article never uses decide a yes/no question ("Did they send troops?") or a
            # count ("How many tanks?"); elsewhere they are usually just another way to say it.
            unsupported=(
                self._unsupported(query, focus)
                if premise is None and (focus.yes_no or focus.facet in QUANTITY_FACETS)
                else frozenset()
            ),
        )
        if asked.unknown and not focus.yes_no:
            return self._not_mentioned(question, named_in, matches)
        # "What did Hamada say?": whose words are asked for, when the question asks for words at
        # all ("Where were the drills, per the statement?" asks for a place).
        speaking = focus.facet in {None, "quote"} and asks_for_words(part.question)
        # Whose words: someone the question itself names ("What did the article say?" after
        # "... whether Zelensky was invited" asks for the article's words, not Zelensky's).
        own_speaker = query.speaker is not None and any(
            m.entity_id == query.speaker for m in self.lexicon.recognize(part.question)
        )
        speaks_as_person = query.speaker is not None and self.lexicon.kind(query.speaker) == "person"
        if speaking and own_speaker and speaks_as_person and focus.facet is None and not focus.yes_no:
            # "What did Austin say to the reporters?" asks for his words: an entry that quotes
            # nobody (the news conference itself) does not give them.
            focus = replace(focus, facet="quote")
            asked = replace(asked, focus=focus)
        if (
            speaking
            and own_speaker
            and query.speaker
            and not self.engine.has_speaker_in(query.speaker, scope)
        ):
            speaker = self.lexicon.entities[query.speaker]
            # An outlet's report is told, not quoted ("What did Nikkei say?"): an entry about it answers.
            reported = speaker.kind == "organization" and any(
                query.speaker in m.doc.entities and "report" in m.doc.answer.lower() for m in matches
            )
            if not reported:
                return self._abstain(
                    question, f"{NOT_KNOWN} The article does not quote {speaker.name}.", matches, query
                )
        # An entry that does not state the kind of fact asked for ranks lower: "Where did the
        # meeting happen?" is about the entry on when it happened, but that one cannot answer.
        miss = self.weights.facet_miss_factor
        if miss < 1.0:
            matches = sorted(
                (m if states_facet(asked, m.doc) else replace(m, score=m.score * miss) for m in matches),
                key=lambda m: -m.score,
            )
        reason = ""
        if asked.unsupported:
            # "Will Japan send troops?": a real word that neither the entries nor the article use
            # is a claim the article can neither confirm nor deny, unless an entry says all the
            # rest (and so answers it, or corrects it: see `contradicts`).
            words = ", ".join(f"\u201c{w}\u201d" for w in sorted(asked.unsupported))
            reason = f"The article says nothing about {words}."
        best: float | None = None  # the score of the best entry about what the question names
        for match in matches:
            doc = match.doc
            if query.entities and _speaks_of_others(doc, query.entities):
                continue
            if not of_the_side(asked, doc, self.lexicon):
                continue  # "Which Japanese ministers ...?" is not about the American delegation
            if best is None and not (focus.facet is not None and doc.kind == "entry" and not doc.answers):
                # An entry that states no kind of fact (what the meeting was about) does not set
                # the bar for a question that asks for one ("Who were the Japanese ministers?").
                best = match.score
            if match.score < max(
                self.answer_threshold, (best or match.score) - self.weights.fallthrough_margin
            ):
                break
            if doc.kind == "decline":
                if match.coverage < self.weights.min_coverage:
                    continue  # "drills where" shares only "where" with "Where are you from?"
                # Small talk or a question about the bot: a friendly reply, no claim from the source.
                return self._abstain(question, doc.answer, [], query)
            if doc.not_in_article:
                if not states_facet(asked, doc):
                    continue  # "the article does not quote Hamada" is no reply to "what's his name?"
                # A curated "the article does not say": the honest reply.
                return self._abstain(question, doc.answer, matches, query)
            if asked.unknown and not contradicts(asked, doc, self.lexicon):
                # A yes/no question about something the article never mentions, which the best
                # entry does not contradict either: nothing to say about it.
                return self._not_mentioned(question, named_in, matches)
            if asked.unsupported and not says_the_rest(asked, doc, self.lexicon):
                break  # the question turns on a word the article never uses ("how many tanks")
            verdict = judge(asked, doc, self.lexicon)
            if not verdict.answers:
                reason = reason or verdict.reason
                continue
            if match.coverage < self.weights.min_coverage:
                continue  # it fits the wording, but says little of what the question is about
            corrected = focus.yes_no and contradicts(asked, doc, self.lexicon)
            return self._answered(question, match, correction=corrected)
        fallback = self._from_article(asked, text)
        if fallback is not None:
            return self._answered(question, fallback)
        if premise is not None:
            # No entry states that kind of fact to compare with: read the question as it is.
            return self._answer_part(question, part, scope, premised=False)
        if not reason and focus.facet is not None and not any(states_facet(asked, m.doc) for m in matches):
            # Nothing near the question states that kind of fact: say which ("anyone's age").
            reason = f"The article {MISSING[focus.facet]}."
        return self._abstain(question, f"{NOT_KNOWN} {reason}".strip(), matches, query)

    def _premise(self, question: str) -> Premise | None:
        premise = premise_of(question, self.lexicon)
        if premise is not None and premise.value.isdigit() and premise.value in self._article_vocabulary:
            # A year the article states is the question's setting ("the G7 presidency in 2023"),
            # not a claim about when.
            return None
        return premise

    def _read_as(self, question: str, query: QueryAnalysis) -> dict[str, str]:
        """How the question's words read in the entries' terms: the curated synonym of any word
        ("backing" is "support" even where an entry says "back"), then typo corrections."""
        synonyms = self.kb.synonyms
        found = {w: synonyms[w] for w in normalize_query(question).split() if w in synonyms}
        return {**found, **query.corrections}

    def _unknown_asked(self, part: Part, focus: Focus, named: QueryAnalysis) -> frozenset[str]:
        """The entities the article never mentions that the question asks about. The background
        of a question that asks what, where or who ("I guessed Iran, but which country was
        it?") is the asker's, not the question's; a yes/no question asks about its background
        ("I heard they met in Tokyo. Is that right?")."""
        unknown = frozenset(named.unknown_entities)
        if focus.yes_no or not unknown or not part.context:
            return unknown
        own = {m.entity_id for m in self.lexicon.recognize(part.question) if not m.in_source}
        return unknown & own

    def _without_descriptions(self, text: str, scope: Scope) -> str:
        """ "Did Hayashi call the talks tense and difficult?" asks how he described them: the
        asker's own describing words, which neither the entries nor the article use, are what the
        answer confirms or not, so they are looked up as "how described", not matched."""
        if not any(describes(w) for w in normalize_query(text).split()):
            return text  # nothing describes: no second reading of the question
        article = self._article_vocabulary
        described = {
            w
            for w in self.engine.analyze(text, scope).oov
            if is_english_word(w) and w not in article and describes(w)
        }
        if not described:
            return text
        kept = [w for w in text.split() if normalize_query(w) not in described]
        return f"{' '.join(kept)} how described"

    def _search_text(self, part: Part, focus: Focus, scope: Scope) -> str:
        """The question and the words of its context the knowledge base knows: the context says
        what the question is about ("the part of Ukraine's economy ... which sector?"), and its
        other words ("my newsletter claims ...") only dilute the match."""
        if not part.context or (part.leans and focus.yes_no):
            # "Does the article say?" asks whether the context is true: its unknown words are
            # what it asks about ("the weather in DC").
            return part.text
        unknown = set(self.engine.analyze(part.context, scope).oov)
        # What the context asked ("how many ...") is its own question, not this one's topic.
        kept = [
            w
            for w in part.context.split()
            if normalize_query(w) not in unknown and w.lower() not in QUESTION_WORDS
        ]
        return f"{part.question} {' '.join(kept)}".strip()

    def _who_is(
        self, person: str, scope: Scope, *, first: Sequence[Match] = (), not_of: str | None = None
    ) -> Match | None:
        """The entry that says who `person` is (their role) and is about no other person, nor
        mentions `not_of`; `first` are matches already found, looked at before its own search."""
        name = self.lexicon.entities[person].name
        _, found = self.engine.search(f"Who is {name}? What is {name}'s role?", scope, limit=CANDIDATES)
        for match in [*first, *found]:
            doc = match.doc
            others = {e for e in doc.entities if e != person and self.lexicon.kind(e) == "person"}
            if (
                doc.kind == "entry"
                and "role" in doc.answers
                and person in doc.entities
                and not others
                and not_of not in doc.mentioned
            ):
                return match
        return None

    def _name_asked_of(self, question: str) -> str | None:
        """The person whose name is asked for by role ("the name of Japan's defense minister")."""
        asked = _NAME_OF.search(question)
        if asked is None:
            return None
        cased = cased_tokens(asked.group(1))
        mentions = self.lexicon.recognize_tokens(cased, frozenset())
        first = next((m for m in mentions if self.lexicon.kind(m.entity_id) != "country"), None)
        if first is None or self.lexicon.kind(first.entity_id) != "person":
            return None
        # Only "the" and a country may come before the role ("the name of *the group* Austin
        # named" asks for the group's name).
        countries = {
            k for m in mentions if self.lexicon.kind(m.entity_id) == "country" for k in range(m.start, m.end)
        }
        between = [t for k, t in enumerate(cased[: first.start]) if k not in countries]
        return first.entity_id if all(t.lower() == "the" for t in between) else None

    def _who_are_named(self, question: str, scope: Scope) -> list[Match]:
        """For each person `question` names (at most MAX_PARTS), the entry on who they are;
        empty unless every one of them has such an entry."""
        people = dict.fromkeys(
            m.entity_id
            for m in self.lexicon.recognize(question)
            if self.lexicon.kind(m.entity_id) == "person"
        )
        if not people or len(people) > MAX_PARTS:
            return []
        found = [self._who_is(person, scope) for person in people]
        return [match for match in found if match is not None] if all(found) else []

    def _from_article(self, asked: Asked, text: str) -> Match | None:
        """The one sentence of the article that answers, when no entry does (lower confidence)."""
        topic = [w for w in normalize_query(text).split() if w not in STOP_WORDS and w not in QUESTION_WORDS]
        if len(topic) < FALLBACK_MIN_WORDS:
            return None  # "now" matches a sentence, but asks nothing a sentence could answer
        for match in self.fallback.search(text):
            if match.score < self.weights.fallback_threshold:
                return None
            if judge(asked, match.doc, self.lexicon).answers:
                return replace(match, score=match.score * self.weights.fallback_confidence)
        return None

    @property
    def _article_vocabulary(self) -> Vocabulary:
        return self.fallback.engine.index_of(None).vocab

    def _unsupported(self, query: QueryAnalysis, focus: Focus) -> frozenset[str]:
        """Real words of the question that neither the entries nor the article use.

        A count turns on any of them ("How many tanks?"). A yes/no question turns only on a thing
        it names ("Did they send troops?"): its other words are usually the asker's own way of
        saying what the article says ("fixing" the grid, "broke" the rules, "somewhere else").
        """
        article = self._article_vocabulary
        words = (w for w in query.oov if is_english_word(w) and w not in article)
        return frozenset(w for w in words if focus.facet in QUANTITY_FACETS or names_a_thing(w))

    def _not_mentioned(self, question: str, query: QueryAnalysis, matches: list[Match]) -> Answer:
        names = [self.lexicon.entities[e].name for e in query.unknown_entities]
        return self._abstain(
            question, f"{NOT_KNOWN} The article does not mention {_join(names)}.", matches, query
        )

    def document(self, scope: Scope, key: str) -> Document | None:
        return self.engine.document(scope, key)

    def render_document(self, question: str, doc: Document, confidence: float = 1.0) -> Answer:
        """An answer from a known document (a chosen suggestion, an entry preview)."""
        return self._answered(question, Match(doc, confidence, 1.0, 1.0, doc.title))

    def autocomplete(self, text: str, scope: Scope = None, limit: int = 25) -> list[str]:
        return self.engine.autocomplete(text, scope, limit)

    # ---- quotations ---------------------------------------------------------------------
    def speakers(self) -> list[Entity]:
        """Everyone with at least one quotation, in order of first appearance."""
        ids = dict.fromkeys(q.speaker for q in self.kb.quotes)
        return [e for e in (self.lexicon.get(i) for i in ids) if e is not None]

    def resolve_speaker(self, text: str) -> str | None:
        """An entity id from an id, a name or an alias as typed (typos tolerated)."""
        if text in self.lexicon:
            return text
        quoted = {q.speaker for q in self.kb.quotes}
        for mention in self.lexicon.recognize(text):
            if mention.entity_id in quoted:
                return mention.entity_id
        return None

    def find_quotes(
        self, speaker: str | None = None, topic: str | None = None, limit: int = 10
    ) -> list[Quote]:
        """Quotations by `speaker` (entity id) about `topic`, best match first."""
        quotes = [q for q in self.kb.quotes if speaker is None or q.speaker == speaker]
        key = normalize_query(topic or "")
        if not key:
            return quotes[:limit]
        scored = []
        for quote in quotes:
            haystack = normalize_query(" ".join([quote.text, quote.context, *quote.topics]))
            score = fuzz.partial_token_set_ratio(key, haystack) if len(key) > 3 else 0.0
            topic_score = max((fuzz.WRatio(key, normalize_query(t)) for t in quote.topics), default=0.0)
            best = max(score, topic_score)
            if best >= QUOTE_TOPIC_CUTOFF:
                scored.append((best, quote))
        scored.sort(key=lambda pair: pair[0], reverse=True)
        return [q for _, q in scored[:limit]]

    def _answered(self, question: str, match: Match, *, correction: bool = False) -> Answer:
        doc = match.doc
        return Answer(
            question=question,
            answered=True,
            # A false premise is corrected, never confirmed: "No \u2014 the meeting was held in ...".
            answer=_correcting(doc.answer) if correction else doc.answer,
            confidence=round(match.score, 4),
            citations=[
                CitationOut(
                    excerpt=c.excerpt,
                    source=self._source_labels.get(c.source, c.source),
                    location=c.location or "",
                    speaker=c.speaker,
                )
                for c in doc.citations
            ],
            # An article sentence is no entry: no id, so `/qa gaps` lists the question.
            entry_id=doc.key if doc.kind != "passage" else None,
            matched_question=match.best_question,
        )

    def _abstain(
        self, question: str, message: str, matches: list[Match], query: QueryAnalysis | None = None
    ) -> Answer:
        suggestions: dict[str, str] = {}  # document key -> question, best first
        # A suggestion about someone else would mislead when the question named an unknown person.
        if query is None or not query.unknown_entities:
            for match in matches:
                if match.score >= self.suggestion_threshold and match.doc.kind == "entry":
                    suggestions.setdefault(match.doc.key, _as_suggestion(match))
        for starter, key in self.starters:
            if len(suggestions) >= self.max_suggestions:
                break
            suggestions.setdefault(key, starter)
        chosen = list(suggestions.items())[: self.max_suggestions]
        confidence = matches[0].score if matches else 0.0
        return Answer(
            question=question,
            answered=False,
            answer=message,
            confidence=round(min(confidence, self.answer_threshold), 4),
            suggestions=[text for _, text in chosen],
            suggestion_keys=[key for key, _ in chosen],
        )


def _as_suggestion(match: Match) -> str:
    """A question worth offering: the phrasing that matched when it reads as a question, else
    the entry's title ("putin" or "meeting date" are keywords people type, not questions)."""
    phrasing = match.best_question
    return phrasing if phrasing.endswith("?") and len(phrasing.split()) >= 3 else match.doc.title


def _speaks_of_others(doc: Document, named: frozenset[str]) -> bool:
    """Whether `doc` cannot speak to a question that names `named`: small talk never answers a
    question naming someone ("How old is Hayashi?" is not "How old are you?"), nor does a "the
    article does not say" entry about other things."""
    if doc.kind == "decline":
        return True
    return doc.not_in_article and not named & (doc.entities | doc.mentioned)


#: A question about how a person's name is written ("full name", "middle initial", "suffix").
_NAME_FORM = re.compile(
    r"\b(?:(?:first|given|full|middle|last|family|complete) names?|middle initials?|initials?|surnames?"
    r"|suffix|spell(?:ed|t|ing)?|written out)\b",
    re.IGNORECASE,
)

#: The turn of an entry whose readings in progress were all overtaken by a change made at once.
_SUPERSEDED = -1
#: "the name of Japan's defense minister": a name asked for by what the person is.
_NAME_OF = re.compile(r"\bnames? of\s+(.+)", re.IGNORECASE)

_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def _combine(question: str, answers: list[Answer]) -> Answer:
    """One reply for a multi-part question: every part's answer, each cited.

    `answer` and `citations` are the union of the answered parts, so a client that ignores
    `parts` still gets every fact with its citation; a part the article does not answer says so.
    """
    answered = [a for a in answers if a.answered]
    # A declined part is named by its place, never by echoing what the user typed (which could
    # hold mentions or markdown: the answer text is ours, and adapters show it as it is).
    texts = [a.answer if a.answered else f"({_ORDINALS[at]} part) {a.answer}" for at, a in enumerate(answers)]
    citations: dict[str, CitationOut] = {}
    for part in answered:
        for citation in part.citations:
            citations.setdefault(citation.excerpt, citation)
    suggestions: dict[str, str] = {}
    for part in answers:
        if not part.answered:
            for text, key in zip(part.suggestions, part.suggestion_keys, strict=True):
                suggestions.setdefault(key, text)
    return Answer(
        question=question,
        answered=bool(answered),
        answer="\n\n".join(texts),
        confidence=min((a.confidence for a in answered), default=max(a.confidence for a in answers)),
        citations=list(citations.values()),
        suggestions=list(suggestions.values())[:3],
        suggestion_keys=list(suggestions)[:3],
        entry_id=answered[0].entry_id if answered else None,
        matched_question=answered[0].matched_question if answered else None,
        parts=answers,
    )


def _correcting(answer: str) -> str:
    first, _, rest = answer.partition(" ")
    if first in {"The", "A", "An", "It", "They", "This", "Two", "Four"}:
        first = first.lower()
    return f"No \u2014 {first} {rest}".rstrip()


def _join(names: list[str]) -> str:
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " or " + names[-1]
