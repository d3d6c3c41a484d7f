"""Deterministic synthetic server entries and the question mixes the benchmark asks.

A server whose moderators added thousands of entries is simulated with plausible Q&A entries
built from word lists (a seeded RNG, so every run measures the same data). Their phrasings mix
their own vocabulary with the article's ("meeting", "Japan", "ministers"), so common terms have
long posting lists in the base and the server at once, which is the expensive case for the
candidate stage. Every entry cites a real verbatim excerpt of the article.

Entries are distinct, as a real server's are: each has its own code name and its own
(qualifier, programme, domain) triple, and every phrasing template names one or the other, so
no two entries share a phrasing and a question aimed at one entry names it alone. That is what
lets the benchmark score top-1 accuracy beside latency: every question knows its answer.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.core.loader import KnowledgeBase
from bot.core.models import Citation, Entry
from bot.core.text import normalize_query

PARAPHRASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "paraphrases.tsv"

QUALIFIERS = (
    "joint", "regional", "bilateral", "maritime", "northern", "southern", "emergency", "long-term",
    "civilian", "strategic", "digital", "trilateral", "coastal", "industrial", "academic",
    "humanitarian", "financial", "technical", "logistics", "medical", "naval", "airborne", "rural",
    "urban", "scientific", "cultural", "interim", "permanent", "provisional", "allied", "pacific",
    "arctic", "volunteer", "veteran", "youth", "municipal", "provincial", "federal", "private",
    "public",
)  # fmt: skip
PROGRAMMES = (
    "exercise", "drill", "fund", "roadmap", "taskforce", "pipeline", "corridor", "agreement",
    "framework", "workshop", "initiative", "programme", "dialogue", "partnership", "patrol",
    "shipment", "reactor", "satellite", "port", "airfield", "hospital", "scholarship", "exchange",
    "academy", "laboratory", "depot", "convoy", "hotline", "registry", "observatory", "consortium",
    "charter", "census", "audit", "tribunal", "forum", "network", "archive", "relay", "mission",
    "campaign", "survey", "grant", "treaty", "protocol", "council", "committee", "bureau",
    "secretariat", "fellowship", "incubator", "hub", "testbed", "sandbox", "clinic", "shelter",
    "warehouse", "terminal", "bridge", "tunnel",
)  # fmt: skip
DOMAINS = (
    "semiconductors", "cybersecurity", "shipbuilding", "rare earths", "power grids", "hydrogen",
    "fisheries", "vaccines", "quantum computing", "artificial intelligence", "space debris",
    "typhoon relief", "earthquake response", "food security", "water supply", "railways",
    "aviation safety", "coast guards", "submarine cables", "critical minerals", "battery recycling",
    "wind farms", "solar panels", "nuclear fuel", "export controls", "student visas",
    "tourism", "rice farming", "steel tariffs", "pharmaceuticals", "robotics", "telecoms",
    "satellite imagery", "weather forecasting", "demining", "refugee housing", "grain exports",
    "fertiliser", "disinformation", "election security", "border checks", "port logistics",
    "container shipping", "drone swarms", "missile defence", "air defence", "radar coverage",
    "military medicine", "cold chain", "microchips",
)  # fmt: skip
LEADS = (
    "the defence ministry", "the foreign ministry", "a joint working group", "the coast guard",
    "the trade ministry", "a university consortium", "the embassy", "a parliamentary committee",
    "the energy agency", "a private contractor", "the science council", "the navy",
)  # fmt: skip
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
#: Syllables for invented code names: rare, made-up terms like real project names.
SYLLABLES = (
    "ka", "zu", "ro", "ta", "ve", "lin", "mo", "ri", "sen", "do", "pa", "shi", "no", "bel", "tor",
    "ga", "mi", "ren", "su", "yo", "dar", "ki", "lu", "ne", "sor", "hai", "tem", "vo", "qui", "ba",
)  # fmt: skip
#: Base vocabulary mixed into some phrasings: the common terms of the real knowledge base.
BASE_TOPICS = (
    "the 2+2 meeting", "Japan", "Ukraine", "the ministers", "the G7", "Hiroshima", "NATO",
    "the joint statement", "Blinken", "the meeting", "Russia", "Washington",
)  # fmt: skip
#: Real verbatim excerpts of the article (checked against the source when entries are built).
EXCERPTS = (
    "Earlier, Nikkei reported",
    "The two countries affirmed their unwavering support for Ukraine",
    "discussed next steps for providing assistance to Ukraine",
    "At a joint news conference",
    "In their joint statement",
    "Foreign Minister Hayashi noted",
    "extremely meaningful exchange of views",
    "So we remain united in our efforts",
    "Hayashi outlined major outcomes of the meeting",
    "we shared our concern over the enhanced military cooperation between China and Russia",
)

#: Each names the entry's code name {c} or its whole (q, p, d) triple, which no other entry has.
TEMPLATES = (
    "What is the {q} {p} on {d}?",
    "Who leads the {q} {d} {p}?",
    "When does the {c} {p} start?",
    "{q} {d} {p} details",
    "How much money went to the {q} {p} for {d}?",
    "What did {b} agree about the {c} {p}?",
    "Where is the {c} {p} based?",
    "Tell me about {c}",
    "Why was the {q} {p} on {d} set up?",
    "Is {b} part of the {c} {p}?",
    "How many people work on the {q} {d} {p}?",
    "What is the deadline for the {c} {p}?",
)
#: Questions that target one synthetic entry without repeating one of its phrasings.
TARGET_TEMPLATES = (
    "who is in charge of the {q} {p} for {d}",
    "what is {c} about",
    "tell me about the {q} {d} {p}",
    "when will the {c} {p} begin",
    "{q} {p} {d} funding",
)
OUT_OF_SCOPE = (
    "What is the best pizza topping?",
    "How tall is Mount Fuji?",
    "What did Olaf Scholz say at the 2+2?",
    "Who won the World Cup in 2022?",
    "How do I bake sourdough bread?",
    "What is the capital of Australia?",
    "zzzz xxxx",
    "What was the budget of the Contact Group?",
    "Did the ministers talk about tariffs on bananas?",
    "How many tanks did Germany send to Ukraine?",
)


@dataclass(frozen=True)
class Synthetic:
    """One generated entry and the words it was built from (to ask about it later)."""

    entry: Entry
    fields: dict[str, str]


@dataclass(frozen=True)
class Probe:
    """A question and the keys of the documents that answer it; empty when none should (the
    question is out of scope). Top-1 accuracy counts a probe with an answer as right when the
    first result is one of `expected`."""

    question: str
    expected: frozenset[str] = frozenset()


#: Distinct (qualifier, programme, domain) triples, hence the most entries `iter_entries` makes.
MAX_ENTRIES = len(QUALIFIERS) * len(PROGRAMMES) * len(DOMAINS)


def _code_names(rng: random.Random) -> Iterator[str]:
    """Invented code names, never one twice: three syllables (27,000 of them), then four."""
    seen: set[str] = set()
    for length in (3, 4, 5):
        space = len(SYLLABLES) ** length
        misses = 0
        # Past half of a length's names, most draws would be repeats: go one syllable longer.
        while misses < 50 and len(seen) < space // 2:
            name = "".join(rng.choice(SYLLABLES) for _ in range(length)).capitalize()
            if name in seen:
                misses += 1
                continue
            misses = 0
            seen.add(name)
            yield name
    raise ValueError("ran out of distinct code names")


def _triples(count: int, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    """`count` distinct (qualifier, programme, domain) triples in random order."""
    if count > MAX_ENTRIES:
        raise ValueError(f"at most {MAX_ENTRIES:,} distinct synthetic entries, {count:,} asked")
    per_q = len(PROGRAMMES) * len(DOMAINS)
    for n in rng.sample(range(MAX_ENTRIES), count):
        q, rest = divmod(n, per_q)
        p, d = divmod(rest, len(DOMAINS))
        yield QUALIFIERS[q], PROGRAMMES[p], DOMAINS[d]


def iter_entries(count: int, *, seed: int, kb: KnowledgeBase, prefix: str = "syn") -> Iterator[Synthetic]:
    """`count` distinct entries, one at a time, the same for the same seed; 5 phrasings each.

    Distinct: no two share a code name, a (q, p, d) triple or a phrasing. A generator, so a
    benchmark can index them as a server's moderators would add them, without holding all the
    validated models at once.
    """
    rng = random.Random(seed)
    source = next(iter(kb.sources))
    text = kb.text_of(source)
    locations = {excerpt: text.locate(excerpt) for excerpt in EXCERPTS}
    missing = [e for e, loc in locations.items() if loc is None]
    if missing:
        raise ValueError(f"benchmark excerpts not verbatim in the source: {missing}")
    names = _code_names(random.Random(seed + 1))
    for n, (qualifier, programme, domain) in enumerate(_triples(count, random.Random(seed + 2))):
        fields = {"q": qualifier, "p": programme, "d": domain, "c": next(names), "b": rng.choice(BASE_TOPICS)}
        phrasings = [t.format(**fields) for t in rng.sample(TEMPLATES, 5)]
        excerpt = rng.choice(EXCERPTS)
        answer = (
            f"The {fields['q']} {fields['p']} on {fields['d']}, code-named {fields['c']}, is run by "
            f"{rng.choice(LEADS)} and starts in {rng.choice(MONTHS)} {rng.randint(2023, 2027)}."
        )
        entry = Entry(
            id=f"{prefix}-{n:05d}",
            questions=phrasings,
            answer=answer,
            citations=[Citation(source=source, excerpt=excerpt, location=locations[excerpt])],
            tags=[fields["d"].split()[0]],
        )
        yield Synthetic(entry, fields)


def paraphrase_probes() -> list[Probe]:
    """The paraphrase test set, in file order: column 2 is the question, column 1 the entry or
    quote ids that answer it ("a|b" for either) or ABSTAIN."""
    out: list[Probe] = []
    for line in PARAPHRASES.read_text(encoding="utf-8").splitlines():
        if "\t" in line:
            ids, question = line.split("\t", 1)
            out.append(Probe(question, frozenset() if ids == "ABSTAIN" else frozenset(ids.split("|"))))
    return out


def paraphrase_questions() -> list[str]:
    """The paraphrase test set's questions (column 2), in file order."""
    return [probe.question for probe in paraphrase_probes()]


def with_typo(text: str, rng: random.Random) -> str:
    """`text` with one letter dropped or two swapped in one of its longer words."""
    words = text.split()
    longer = [i for i, w in enumerate(words) if len(w) >= 6 and w.isalpha()]
    if not longer:
        return text
    i = rng.choice(longer)
    word = words[i]
    at = rng.randrange(1, len(word) - 2)
    if rng.random() < 0.5:
        word = word[:at] + word[at + 1 :]
    else:
        word = word[:at] + word[at + 1] + word[at] + word[at + 2 :]
    words[i] = word
    return " ".join(words)


def base_mix(seed: int = 7) -> list[str]:
    """Questions about the real knowledge base: paraphrases, some with a typo, and out-of-scope ones."""
    rng = random.Random(seed)
    questions = paraphrase_questions()
    typos = [with_typo(q, rng) for q in rng.sample(questions, min(40, len(questions)))]
    return [*questions, *typos, *OUT_OF_SCOPE]


def aimed_probes(targets: Sequence[Synthetic], *, seed: int) -> list[Probe]:
    """One question per target entry, worded unlike its phrasings, some with a typo; each
    expects its target."""
    rng = random.Random(seed)
    out: list[Probe] = []
    for item in targets:
        question = rng.choice(TARGET_TEMPLATES).format(**item.fields)
        question = with_typo(question, rng) if rng.random() < 0.3 else question
        out.append(Probe(question, frozenset({item.entry.id})))
    return out


def aimed_questions(targets: Sequence[Synthetic], *, seed: int) -> list[str]:
    """`aimed_probes`' questions."""
    return [probe.question for probe in aimed_probes(targets, seed=seed)]


def server_mix(entries: Sequence[Synthetic], *, seed: int, count: int = 120) -> list[str]:
    """Questions for a server: the base mix plus questions aimed at `count` of its own entries."""
    rng = random.Random(seed)
    targets = rng.sample(list(entries), min(count, len(entries)))
    return [*base_mix(seed), *aimed_questions(targets, seed=seed)]


#: Openings people put before a question; a first-sight question is one of the knowledge base's
#: phrasings or paraphrases, reworded with one of these, or misspelt.
OPENERS = (
    "", "so ", "hey, ", "quick question: ", "can you tell me ", "i was wondering ", "do you know ",
    "bot, ", "one more: ", "please tell me ",
)  # fmt: skip
#: Questions asked before first-sight timing starts, never among the timed ones.
WARMUP = ("hello there", "Who attended the 2+2?", "What is the best pizza topping?")


def first_sight_probes(kb: KnowledgeBase, *, seed: int, count: int | None = None) -> list[Probe]:
    """`count` questions about the curated base (all there are when None), distinct even after
    normalisation, so each is asked for the first time; each knows the entries that answer it.

    Drawn from the paraphrase test set, the knowledge base's own phrasings and the out-of-scope
    questions, each as written, reworded (lower case, an opener, no question mark) and misspelt
    (`with_typo`), then shuffled. Never one of `WARMUP`. A `ValueError` when there are fewer.
    """
    rng = random.Random(seed)
    pool = [
        *paraphrase_probes(),
        *(Probe(q, frozenset({entry.id})) for entry in kb.entries for q in entry.questions),
        *(Probe(q) for q in OUT_OF_SCOPE),
    ]
    candidates = [*pool]
    candidates += [Probe(rng.choice(OPENERS) + p.question.lower().rstrip("?"), p.expected) for p in pool]
    candidates += [Probe(with_typo(p.question, rng), p.expected) for p in pool]
    seen = {normalize_query(q) for q in WARMUP}
    out: list[Probe] = []
    for probe in candidates:
        key = normalize_query(probe.question)
        if key and key not in seen:
            seen.add(key)
            out.append(probe)
    if count is not None and len(out) < count:
        raise ValueError(f"only {len(out)} distinct first-sight questions, {count} wanted")
    rng.shuffle(out)
    return out if count is None else out[:count]


def typing_prefixes(questions: list[str], *, seed: int, count: int = 120) -> list[str]:
    """What autocomplete sees while someone types: prefixes of questions, cut mid-word too."""
    rng = random.Random(seed)
    out: list[str] = [""]
    for question in rng.sample(questions, min(count, len(questions))):
        cut = rng.randint(1, len(question))
        out.append(question[:cut])
    return out
