"""Finding what is asked: the question inside a long message, and its parts.

"Hi! I'm writing a report for my politics class and my teacher said to use this article. Which
city was the meeting held in?" asks one thing; the first two sentences are context, and every
word of them would otherwise count against the match. "Who went and where was it held?" asks
two things, each answered by its own entry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Final

#: Words that open a question (after any request frame has been removed).
WH_WORDS: Final = frozenset({"who", "whom", "whose", "what", "which", "when", "where", "why", "how"})
AUXILIARIES: Final = frozenset(
    {
        "is", "was", "were", "are", "am", "did", "does", "do", "has", "have", "had", "will", "would",
        "can", "could", "should", "shall", "may", "might", "must", "isnt", "wasnt", "werent", "arent",
        "didnt", "doesnt", "dont", "hasnt", "havent", "wont", "wouldnt", "cant", "couldnt", "shouldnt",
    }
)  # fmt: skip
#: Imperatives that ask for information ("name the ministers", "list what was condemned").
REQUEST_VERBS: Final = frozenset(
    {"name", "list", "tell", "explain", "describe", "summarize", "summarise", "give", "show", "define",
     "quote", "identify"}
)  # fmt: skip
#: A later part with at most this many topic words cannot be read without the first part.
SIBLING_MAX_WORDS: Final = 1
_PREPOSITIONS: Final = frozenset(
    {"in", "on", "at", "for", "from", "to", "by", "with", "of", "about", "during"}
)
#: At most this many parts of one message are answered.
MAX_PARTS: Final = 3
#: A question with a word pointing back borrows the sentence before it as context; with at most
#: this many topic words ("What reason did he give?") it cannot be answered without it.
CONTEXT_MAX_WORDS: Final = 2

_ASK = (
    r"(?:tell|explain|let|remind|help|clarify|list|name|give|show|describe|summarize|summarise|share|provide)"
)
# "I was wondering who attended" -> "who attended"; "can you tell me where ..." -> "where ...".
_REQUEST_FRAME = re.compile(
    r"^.*?\b(?:"
    r"i(?:'?m| am| was| were|'?ve been) (?:wondering|curious)(?: about)?|"
    r"(?:i|we)(?: want| wanted| need| needed| would like|'?d like| would love|'?d love) to "
    r"(?:know|find out|understand|ask)(?: about)?|"
    rf"(?:can|could|would|will) (?:you|u|someone|somebody|anyone|anybody) (?:please |pls |plz )?{_ASK}"
    r"(?: to)?(?: me| us)?(?: know| understand| with)?|"
    r"(?:please |pls |plz )?(?:tell|remind) (?:me|us)|"
    r"do (?:you|u|ya) (?:know|remember|happen to know)|"
    r"(?:does|do) (?:anyone|anybody|someone|somebody|any of you) (?:know|remember)|"
    r"any ?(?:one|body) (?:know|knows|remember)s?|"
    r"(?:my|the|our) (?:actual |real |main |only )?(?:question|q) (?:is|was)|"
    r"(?:what|all) (?:i|we) (?:actually |really |just |still )?(?:want|wanna|need|needed|wanted)"
    r"(?: to)? (?:know|ask|find out)(?: is| was)?|"
    r"i (?:have|got) a (?:quick )?question(?: about [^:,.?!]*)?"
    r")\b[\s,:]*",
    re.IGNORECASE,
)
# Frames that only introduce a question when one follows: "I'm not sure what he said".
_WEAK_FRAME = re.compile(
    r"^.*?\b(?:"
    r"i(?:'?m| am| was| were|'?ve been) "
    r"(?:confused|unsure|not sure|trying to (?:find out|understand|figure out))"
    r"(?: about)?|"
    r"(?:i )?(?:don'?t|do not|didn'?t|did not) (?:know|understand|get|remember|catch)|"
    r"(?:i )?(?:can'?t|cannot|could not|couldn'?t) (?:find|figure out|remember|tell|work out|see)"
    r")\b[\s,:]*",
    re.IGNORECASE,
)
# Someone else's question, passed on: "He wants to know where ...", "She asked me whether ...".
# It is the question only when what follows asks nothing itself ("Can you tell me?").
_PASSED_ON = re.compile(
    r"^.*?\b(?:he|she|they|someone|somebody|everyone|people|my \w+(?: \w+)?"
    r"|(?:one|a|the|another|this|that|its|my|our|her|his) (?:of the )?(?:\w+ )?"
    r"(?:questions?|prompts?|tasks?|exercises?|quiz|worksheet|homework|assignment|test|exam)"
    r"(?: (?:on|in|from) (?:\w+ ){0,2}\w+)?)"
    r" (?:also )?"
    r"(?:wants|wanted|asked|asks|wonders|wondered|is wondering|was wondering|keeps asking|kept asking"
    r"|would like|'?d like|needs|needed)(?: me| us)?(?: to (?:know|find out|understand))?\b[\s,:]*",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.?!\n]+(?:[.?!]+|\n|$)")
# Dots that do not end a sentence: "U.S.", "D.C.", "Mr.", "J." in "Antony J. Blinken", "e.g.".
_NOT_A_STOP = re.compile(
    r"\b(?:[A-Za-z]\.){2,}|\b(?:Mr|Mrs|Ms|Dr|Sec|Gen|Sen|Rep|St|vs|etc|approx|No|Jan|Feb|Mar|Apr|Jun|Jul|"
    r"Aug|Sep|Sept|Oct|Nov|Dec)\.|\b(?!I\.)[A-Z]\.(?=\s+[A-Z])|\b(?:e\.g|i\.e)\."
)
_WORDS = re.compile(r"[a-z0-9+']+")
_OPENS = r"(?:who|whom|whose|what|which|when|where|why|how|did|does|do|is|was|were|are|has|have|will|can)\b"
# Between two questions: "and", "also", "plus", "as well as", ";", "," before a question word
# (possibly after a preposition or a softener: "and in which city", "and roughly how many").
_JOINER = re.compile(
    r"(?:\s*[;,]\s*(?:and\s+|also\s+|plus\s+|then\s+)?"
    r"|\s+(?:and|also|plus|as well as|&|then|and then|and also)\s+)"
    r"(?=(?:(?:in|on|at|for|from|to|by|with|of|since|until|roughly|approximately|about|exactly|also|then|so)\s+)?"
    + _OPENS
    + ")",
    re.IGNORECASE,
)
# "when and where was it held" -> "when was it held" + "where was it held".
_WH_PAIR = re.compile(
    r"^(?P<a>who|what|when|where|why|how|which)\s*(?:and|&|/|,|or)\s*(?P<b>who|what|when|where|why|how|which)\b"
    r"(?:\s*(?:and|&|/|,|or)\s*(?P<c>who|what|when|where|why|how|which)\b)?(?P<rest>.*)$",
    re.IGNORECASE,
)
#: Words that only link a sentence to the one before it ("And what did they condemn?").
_LEADING_LINK = re.compile(r"^(?:and|also|plus|so|then|but|oh|and also|and then)\b[\s,]*", re.IGNORECASE)
#: Words that point back to something said before ("What reason did he give?").
_REFERRING: Final = frozenset(
    {"it", "that", "this", "he", "she", "they", "him", "her", "them", "one", "ones", "those", "these",
     "his", "their"}
)  # fmt: skip
#: Words that make a head about the asker rather than the topic.
_PERSONAL: Final = frozenset(
    {"i", "im", "ive", "me", "my", "mine", "we", "our", "us", "ok", "okay", "so", "hi", "hey"}
)
#: A head that sets the scene of the question rather than a preamble ("In the photo, who ...").
_SCENE = re.compile(r"^(?:in|on|at|about|regarding|for|from|during|according to|as for)\b", re.IGNORECASE)
#: Non-topic words when deciding whether a short question needs the sentence before it.
_FUNCTION_WORDS: Final = (
    WH_WORDS
    | AUXILIARIES
    | _REFERRING
    | frozenset(
        {"the", "a", "an", "of", "to", "in", "on", "at", "about", "was", "so", "if", "and", "or", "exactly"}
    )
)
#: Words about the telling, not the topic: "Does the article say?" is about what came before.
_TELLING: Final = frozenset(
    {"article", "story", "piece", "text", "say", "says", "said", "mention", "mentions", "tell", "anything",
     "you", "u", "me", "us", "please", "pls", "help", "know", "answer", "explain", "idea", "ideas",
     "clue", "thoughts", "anyone", "anybody", "someone", "any"}
)  # fmt: skip


@dataclass(frozen=True)
class Part:
    """One question of a message, and what it points back to ("What did he say?").

    A part that `leans` on its context (too few words of its own to stand alone) is answered
    only with it; another is tried with and without it, in the order `context_first` says:
    background sentences first ("I wrote down 'as long as ___'. What was the rest of his
    phrase?"), a sibling question last ("in which city was it held?" is about the meeting).
    """

    question: str
    context: str = ""
    leans: bool = False
    context_first: bool = True
    #: Everything the message says before this question, where "he" or "his" finds its person.
    before: str = ""

    @property
    def text(self) -> str:
        """What retrieval matches: the question and its context."""
        return f"{self.question} {self.context}".strip()


def _words(text: str) -> list[str]:
    # "where's" reads as "where": only the part before an apostrophe counts.
    return [w.split("'")[0] for w in _WORDS.findall(text.lower().replace("\u2019", "'"))]


def asks_with_a_question_word(text: str) -> bool:
    """Whether `text` has a question word ("who", "where" ...) anywhere."""
    return any(w in WH_WORDS for w in _words(text))


def opens_question(text: str) -> bool:
    """Whether `text` reads as a question or a request for information by its first word."""
    words = _words(text)
    if not words:
        return False
    first = words[0]
    if first in _PREPOSITIONS and len(words) > 1:
        first = words[1] if words[1] in WH_WORDS else first  # "in which city ..."
    return first in WH_WORDS or first in AUXILIARIES or first in REQUEST_VERBS


#: "1) where is it 2) when": the numbers of a list of questions (a line break of their own).
_LIST_MARK: Final = re.compile(r"(?:(?<=\s)|^)\(?\d{1,2}[).]\s+(?=[A-Za-z])")


def sentences(text: str) -> list[str]:
    """The sentences of a message, each with its end mark (abbreviation dots do not split)."""
    text = _LIST_MARK.sub("\n", text)
    protected = _NOT_A_STOP.sub(lambda m: m.group(0).replace(".", "\x00"), text)
    return [s.replace("\x00", ".").strip() for s in _SENTENCE.findall(protected) if s.strip()]


_WHETHER: Final = re.compile(r"(?:whether|if)\s+(?:or not\s+)?", re.IGNORECASE)


def drop_request_frame(text: str) -> str:
    """ "Can you tell me who attended?" -> "who attended?" (unchanged when there is no frame)."""
    match = _REQUEST_FRAME.match(text)
    if match is not None:
        rest = text[match.end() :].strip()
        # "I don't know" with nothing after it is the whole message, not a frame.
        return rest if any(ch.isalpha() for ch in rest) else text
    weak = _WEAK_FRAME.match(text)
    if weak is not None and opens_question(text[weak.end() :]):
        return text[weak.end() :].strip()
    return text


def passed_on(sentence: str) -> str | None:
    """The question inside "He wants to know where the talks took place." ("where the talks
    took place"), or "She asked whether X was mentioned" (a yes/no question), or None."""
    frame = _PASSED_ON.match(sentence.strip())
    if frame is None:
        return None
    rest = sentence.strip()[frame.end() :].rstrip(" .!")
    whether = _WHETHER.match(rest)
    if whether is not None:
        return f"{YES_NO_MARK} {rest[whether.end() :]}?"
    return f"{rest}?" if opens_question(rest) else None


def _asks(sentence: str) -> bool:
    """A sentence that asks: it ends with "?", opens like a question ("also, who ..."), or holds
    a request frame."""
    stripped = _LEADING_LINK.sub("", sentence.strip())
    if stripped.endswith("?") or opens_question(stripped) or _REQUEST_FRAME.match(stripped):
        return True
    weak = _WEAK_FRAME.match(stripped)
    return weak is not None and opens_question(stripped[weak.end() :])


def _from_question_word(clause: str) -> tuple[str, str]:
    """ "for my report, which city was it held in?" -> ("which city was it held in?", "for my
    report,"): the question, and the head before it.

    Within a sentence a head ends at a comma or a dash that a question opens after; a head that
    sets the scene ("In the photo, who is on the left?") stays part of the question. The head
    is kept as context: "The drills of Russia and China, where are they held?" points back to it.
    """
    pieces = re.split(r"(?<=[,:;\u2013\u2014-])\s+", clause)
    for at in range(1, len(pieces)):
        # "I guessed Iran, but which country was it?": a linking word may open the question.
        tail = _LEADING_LINK.sub("", " ".join(pieces[at:]))
        head = " ".join(pieces[:at])
        if opens_question(tail) and not opens_question(head) and not _SCENE.match(head):
            # A head about the asker ("I'm writing a report for class,") is preamble, not topic.
            personal = any(w in _PERSONAL for w in _words(head))
            return tail, "" if personal else head.rstrip(" ,:;\u2013\u2014-")
    return clause, ""


def _points_back(question: str) -> bool:
    return any(w in _REFERRING for w in _words(question))


def _topic_words(question: str) -> int:
    return sum(w not in _FUNCTION_WORDS for w in _words(question))


def _cannot_stand_alone(question: str) -> bool:
    return _topic_words(question) <= CONTEXT_MAX_WORDS and _points_back(question)


#: What "it" means in a question that names nothing else: this bot's one event.
DEFAULT_SUBJECT: Final = "the meeting"
_IT = re.compile(r"\bit\b", re.IGNORECASE)


#: Questions whose "it" can only be an event: where or when it was held, happened, took place.
_EVENT_QUESTION = re.compile(
    r"\b(?:where|when|(?:what|which) (?:day|date|time|city|country|place))\b.*\bit\b"
    r".*\b(?:held|happen|happened|take place|took place"
    r"|hosted|start|started|end|ended)\b"
    r"|^(?:where|when)\s+(?:was|is|will)\s+it(?:\s+be)?\W*$",
    re.IGNORECASE,
)


#: "Which city did they meet in?": "they" who met are the ministers of the meeting.
_THEY_MET: Final = re.compile(
    r"\b(?:where|when|(?:what|which) (?:city|day|date|country|place))\b.*?\b(they)\s+"
    r"(?:met|meet|gathered|gather|convened|were meeting|got together)\b",
    re.IGNORECASE,
)


#: "Where did that meeting happen?": the meeting, when what came before does not say otherwise.
_THAT_MEETING: Final = re.compile(r"\b(?:that|this) (meeting|talks|2\+2)\b", re.IGNORECASE)


def with_default_subject(question: str) -> str:
    """ "where was it held?" -> "where was the meeting held?": an event's "it", in a question
    that names nothing else, is the meeting (the bot knows one event); "where did they meet?"
    -> "where did the ministers meet?"."""
    met = _THEY_MET.search(question)
    if met is not None and _topic_words(question) <= CONTEXT_MAX_WORDS:
        return f"{question[: met.start(1)]}the ministers{question[met.end(1) :]}"
    if _THAT_MEETING.search(question) and _topic_words(question) <= CONTEXT_MAX_WORDS:
        return _THAT_MEETING.sub(r"the \1", question, count=1)
    words = _words(question)
    if (
        "it" not in words
        or any(w in _REFERRING - {"it"} for w in words)
        or not _EVENT_QUESTION.search(question)
    ):
        return question
    if _topic_words(question) > CONTEXT_MAX_WORDS:
        return question
    return _IT.sub(DEFAULT_SUBJECT, question, count=1)


def _asks_nothing_itself(question: str) -> bool:
    """ "Does the article say?", "Does it mention that?": all about what came before."""
    return all(w in _FUNCTION_WORDS or w in _TELLING for w in _words(question))


def _leaning(question: str, context: str) -> Part:
    if context and (_points_back(question) or _asks_nothing_itself(question)):
        return Part(question, context, _cannot_stand_alone(question) or _asks_nothing_itself(question))
    return Part(question)


# "X, didn't he?", "X, right?", "X - is that so?": a statement put up for confirmation.
_TAG = re.compile(
    # A negated tag may follow a plain space ("he was there wasn't he"); any other needs a comma
    # or a dash, or "Which one was it?" would be a statement ("which one") put up for confirmation.
    r"(?:(?:[,;\u2013\u2014-]\s*|\s+)"
    r"(?:is|was|are|were|did|does|do|has|have|had|will|would|can|could|should)(?:n'?t| not)\s+"
    r"(?:it|he|she|they|we|you|that|there|i)"
    r"|[,;\u2013\u2014-]\s*(?:"
    r"(?:is|was|are|were|did|does|do)\s+(?:it|he|she|they|that|there)"
    r"|is that (?:right|so|true|correct|the case)|isn'?t that (?:right|so|true)|am i right"
    r"|right|correct|yeah|yes|true|ok|okay|eh|innit|or not|or no|or nah|yes or no|true or false"
    r"))\s*[?!.]*\s*$",
    re.IGNORECASE,
)
# "Is it true that X?", "I seem to recall X", "Correct me if I'm wrong, but X": the same.
_CHECK_FRAME = re.compile(
    r"^(?:is (?:it )?(?:true|correct|right|the case)(?: that)?|am i right (?:that|in thinking that)|"
    r"i (?:seem to |kind of |sort of )?(?:recall|remember|think|believe|thought)(?: that)?|"
    r"i (?:heard|read|was told) that|"
    r"correct me if i'?m wrong,? (?:but )?|tell me if|confirm(?: for me)? (?:that|whether)|so,?|wait,?)\s+",
    re.IGNORECASE,
)
# "Is that right?" alone: it asks to confirm the sentence before it.
_CONFIRM = re.compile(
    r"^(?:(?:is|was|isn'?t|wasn'?t) (?:that|this|it) (?:right|true|correct|so|the case)|right|correct|true"
    r"|am i right|yes or no|(?:so )?(?:who'?s|who is|which is|which one(?: of us)? is) (?:right|correct)"
    r"|(?:was|am) i wrong|(?:is|was) (?:that|this|it) wrong)\s*[?!.]*$",
    re.IGNORECASE,
)
#: A statement to confirm is asked as a yes/no question: "did" opens it (a stop word: it changes
#: nothing the matcher reads, and tells the focus that it is a yes/no question).
YES_NO_MARK: Final = "did"


def confirmation(sentence: str) -> str | None:
    """The statement a sentence puts up for confirmation, as a yes/no question, or None."""
    stripped = sentence.strip()
    tag = _TAG.search(stripped)
    frame = _CHECK_FRAME.match(stripped)
    if tag is None and (frame is None or not stripped.endswith("?")):
        # "I think this matters for my class." is a preamble; "I think they met in Tokyo?" asks.
        return None
    statement = stripped[frame.end() if frame else 0 : tag.start() if tag else len(stripped)]
    statement = statement.strip(" ,;").rstrip("?!. ")
    if len(_words(statement)) < 2:
        return None
    if opens_question(statement):
        # Already a question ("Where was it held, right?"): only the tag goes.
        return statement if tag is not None else None
    return f"{YES_NO_MARK} {statement}?"


#: "Was it the Geneva Conventions or something else?": a guess offered with an open alternative.
_OR_ELSE: Final = re.compile(
    r"^(?:is|was|are|were|did|does|do)\b.*?,?\s+or\s+(?P<open>something|someone|somebody|somewhere|sometime)"
    r"\s+else\s*[?!.]*$",
    re.IGNORECASE,
)
_OPEN_QUESTION: Final = {
    "something": "what", "someone": "who", "somebody": "who", "somewhere": "where", "sometime": "when",
}  # fmt: skip


def _whether_asked(asked: str) -> str:
    """ "(I'd love to know) whether he'd be there in person" asks a yes/no question."""
    whether = _WHETHER.match(asked)
    return f"{YES_NO_MARK} {asked[whether.end() :].rstrip(' .!')}?" if whether is not None else asked


def _open_guess(asked: str) -> str:
    """ "Was that the Geneva Conventions or something else?" asks what it was ("What was that?",
    about the sentence before): the guess is the asker's, the question is open."""
    found = _OR_ELSE.match(asked)
    if found is None:
        return asked
    word = _OPEN_QUESTION[found.group("open").lower()]
    return f"{word} was that?"


#: "I guessed the US - was I wrong?": the asker's answer to a question, put up for checking.
_GUESS_CHECKED: Final = re.compile(
    r"^(?:i|we) (?:guessed|thought|assumed|said|put|answered|wrote|picked|went with)\b.*"
    r"\b(?:was i wrong|am i wrong|was i right|am i right|is that right|right|correct)\W*$",
    re.IGNORECASE,
)
#: "Which is it?", "So which one is right?": asks the question posed before, again.
_WHICH_IS_IT: Final = re.compile(
    r"^(?:so\s+)?(?:which|what|who)(?: one)?(?: is| was)? (?:it|right|correct|true|one)\s*[?!.]*$",
    re.IGNORECASE,
)
#: ", because I'm arguing with my brother": why the asker asks, after the question itself.
_TRAILING_REASON: Final = re.compile(
    r",\s*(?:(?:because|cause|cuz|since|so|as) (?:i|i'?m|im|we|my|our|me)|for my|i'?m asking)\b"
    r"[^?]*(?=[?.!]*$)",
    re.IGNORECASE,
)


def _passed_on_before(said: list[str], at: int) -> str | None:
    """The latest question passed on in the sentences before sentence `at` ("My teacher wants
    to know who attended."), if any."""
    return next(filter(None, (passed_on(earlier) for earlier in reversed(said[:at]))), None)


def _after(part: Part, before: str) -> Part:
    """`part`, knowing what the message said before it (unless it already does)."""
    return part if part.before else replace(part, before=before)


def find_questions(text: str) -> list[Part]:
    """The questions a message asks, in order, with preamble and request frames removed.

    A message with no recognisable question is returned whole (it may still match, e.g. "the
    attendees"), so nothing the user typed is thrown away without a reason.
    """
    found: list[Part] = []
    context = ""
    previous = ""  # the question before, for a later one that points back to it
    confirming = False  # the sentence before put a statement up for confirmation
    # `sentences` strips each one; what comes before a question is where "he" finds its person.
    said = sentences(text)
    for at, sentence in enumerate(said):
        before = " ".join(said[:at])
        if _CONFIRM.match(sentence):
            # "I think it was in Germany. Is that right?" asks to confirm the sentence before.
            if context:
                found.append(_after(Part(confirmation(f"{context}, right?") or context), before))
            elif not confirming:
                found.append(_after(Part(sentence), before))
            context, confirming = "", False
            continue
        if _GUESS_CHECKED.match(sentence) and (relayed := _passed_on_before(said, at)):
            # "She asked me which country presides. I guessed the US - was I wrong?": the
            # question she asked is the one to answer.
            found.append(_after(Part(relayed), before))
            context, confirming = "", False
            continue
        checked = confirmation(sentence)
        if checked is not None:
            found.append(_after(_leaning(checked, context), before))
            context, confirming = "", True
            continue
        confirming = False
        if not _asks(sentence):
            context = sentence
            continue
        asked, head = _from_question_word(drop_request_frame(sentence))
        asked = _TRAILING_REASON.sub("", drop_request_frame(_LEADING_LINK.sub("", asked))).strip()
        asked = _open_guess(_whether_asked(asked))
        if any(ch.isalnum() for ch in asked):
            background = " ".join(filter(None, [head, context]))
            # Only a bare request hands the question back ("Can you tell me?"); "What did he
            # say?" asks its own question, about the sentence before.
            request = (
                _asks_nothing_itself(asked) and not asks_with_a_question_word(asked)
            ) or _WHICH_IS_IT.match(asked) is not None
            # The question passed on may be a sentence or two back ("One question asks where
            # they met. She's stuck. Any idea?").
            relayed = _passed_on_before(said, at) if request else None
            if relayed is not None:
                # "He wants to know where the talks were. Can you tell me?" asks where they were.
                found.append(_after(Part(relayed), before))
            elif not background and previous and request:
                pass  # "... Where was it? Can you tell me?": one question
            elif not background and previous:
                found.append(_after(_sibling(asked, previous, " ".join(said[: at - 1])), before))
            else:
                found.append(_after(_leaning(asked, background), before))
            previous = asked
        context = ""
    if not found and context and (relayed := passed_on(context)) is not None:
        return [Part(relayed, before=" ".join(said[:-1]))]  # "My teacher wants to know who attended."
    return found or [Part(text.strip())]


def split_parts(part: Part) -> list[Part]:
    """A question that asks several things, as one question per thing (at most MAX_PARTS).

    Splits between two clauses that each open like a question ("who went and where was it
    held"), and expands paired question words ("when and where was it held"). Every part keeps
    the context of the whole.
    """
    text = part.question
    pair = _WH_PAIR.match(text)
    if pair is not None and pair.group("rest").strip():
        rest = pair.group("rest")
        words = dict.fromkeys(pair.group(k).lower() for k in ("a", "b", "c") if pair.group(k))
        return [Part(f"{w}{rest}".strip(), part.context, part.leans, before=part.before) for w in words][
            :MAX_PARTS
        ]
    pieces: list[str] = []
    start = 0
    for match in _JOINER.finditer(text):
        head = text[start : match.start()].strip(" ,;")
        if len(_words(head)) >= 2 and opens_question(head):
            pieces.append(head)
            start = match.end()
    tail = text[start:].strip(" ,;")
    if not pieces or len(_words(tail)) < 2 or not opens_question(_strip_lead(tail)):
        return [part]
    pieces.append(_strip_lead(tail))
    # "What were the drills called, and when exactly did they happen?": a later part that points
    # back leans on the first.
    if part.context:
        return [Part(p, part.context, part.leans, before=part.before) for p in pieces[:MAX_PARTS]]
    first, *later = pieces[:MAX_PARTS]
    # A later part may point back to the first ("... and what will they talk about?"), unless
    # its "it" is simply the meeting ("who went and where was it held?").
    later = [with_default_subject(p) for p in later]
    return [Part(first, before=part.before)] + [_sibling(p, first, part.before) for p in later]


#: Pronouns for a person: in a later question they stand for someone the first one names.
_PERSON_PRONOUNS: Final = frozenset({"he", "she", "him", "her", "his", "hers"})


def _sibling(question: str, first: str, before: str = "") -> Part:
    """A later question of the same message, which may point back to the first one ("... and
    where was it held?" is usually about the meeting: it is tried alone first)."""
    before = f"{before} {first}".strip()
    if _LEADING_WH.fullmatch(question.strip(" ?!.")):
        return Part(_asked_again(question, first), before=before)
    if not _points_back(question):
        return Part(question, before=before)
    return Part(question, first, _topic_words(question) <= SIBLING_MAX_WORDS, False, before)


_LEADING_WH: Final = re.compile(
    r"^\s*(?:who|whom|what|when|where|which|why|how(?: many| much| long)?)\b", re.I
)


def _asked_again(bare: str, first: str) -> str:
    """ "Where was the meeting? When?" -> "When was the meeting?"; "Did Japan finish it? When?"
    -> "When did Japan finish it?": a bare question word asks it of the question before."""
    word = bare.strip(" ?!.").lower()
    body = first.strip().rstrip("?!. ")
    swapped = _LEADING_WH.sub("", body, count=1)
    if swapped != body:
        return f"{word}{swapped}?"
    return f"{word} {body[:1].lower()}{body[1:]}?"


def personal_pronouns(question: str) -> set[str]:
    """The pronouns of `question` that stand for a person ("what did *he* say?")."""
    return {w for w in _words(question) if w in _PERSON_PRONOUNS}


def _strip_lead(clause: str) -> str:
    """ "roughly how many ..." -> "how many ..." (a preposition stays: "in which city")."""
    return re.sub(
        r"^(?:roughly|approximately|about|exactly|also|then|so)\s+", "", clause, flags=re.IGNORECASE
    )
