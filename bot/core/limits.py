"""Content limits: the one place that says how long a question or an entry may be.

Discord's own rendering limits live with the Discord adapter (`bot.discord_app.render`).
"""

from __future__ import annotations

from typing import Final

#: Longest question the answer service will read; longer input is refused politely.
MAX_QUESTION_CHARS: Final = 2000
#: Slash-command option limit for /ask (Discord enforces it client-side too).
MAX_ASK_OPTION_CHARS: Final = 300
#: Moderator-written entries.
MAX_PHRASING_CHARS: Final = 300
MAX_ANSWER_CHARS: Final = 1500
MAX_PHRASINGS: Final = 10
MAX_EXCERPTS: Final = 5
MAX_EXCERPT_CHARS: Final = 1000
MAX_SPEAKER_CHARS: Final = 100
#: An excerpt proves where an answer comes from only if it is a few whole words of the source.
MIN_EXCERPT_WORDS: Final = 3
#: Tags and linked entity ids of one entry (curated files and imports alike).
MAX_TAGS: Final = 20
MAX_TAG_CHARS: Final = 50
MAX_ENTITY_LINKS: Final = 20
#: Size cap for an imported YAML file, in bytes.
MAX_IMPORT_BYTES: Final = 256 * 1024
#: Deepest nesting of lists and mappings a YAML file may have (knowledge files need about 5).
MAX_YAML_DEPTH: Final = 32
#: Problems in one validation (a knowledge load, an import) after which a non-verbatim excerpt
#: is no longer given its closest passage: each search takes milliseconds, and a file with
#: thousands of wrong excerpts would otherwise keep a worker busy for seconds.
MAX_CLOSEST_PASSAGES: Final = 25

# ---- bounded memory: every cache and queue of the bot has its bound here ----------------------

#: Asked questions waiting to be written to the question log; past this, new ones are dropped
#: (and counted) rather than delaying an answer or growing without limit.
QUESTION_LOG_QUEUE: Final = 5_000
#: Questions waiting past which each answer yields a millisecond to the log writer.
QUESTION_LOG_BACKLOG: Final = 50
#: Questions written to the log in one transaction.
QUESTION_LOG_BATCH: Final = 200
#: How long closing waits for the question log to be written before dropping the rest.
QUESTION_LOG_CLOSE_SECONDS: Final = 5.0
#: How long a feedback vote waits for its answer's log entry to be written.
FEEDBACK_WAIT_SECONDS: Final = 10.0
#: Users whose question rate is remembered (least recently seen forgotten first).
RATE_LIMIT_USERS: Final = 10_000
#: Recent public answers remembered per process, to avoid reposting them.
RECENT_ANSWERS: Final = 5_000
#: Moderators' buttons and forms listened for at once (each lives 15 minutes or an hour); past
#: this the oldest is stopped, and a click on it is told it expired.
LIVE_VIEWS: Final = 10_000

# ---- fair sharing between servers: (uses, per seconds) ---------------------------------------

#: /qa commands, per member of a server and per server (curators only count toward the latter).
QA_COMMANDS_PER_MEMBER: Final = (20, 60.0)
QA_COMMANDS_PER_SERVER: Final = (60, 60.0)
#: Autocomplete of /qa ids and versions (each reads the server's entries), likewise.
QA_AUTOCOMPLETE_PER_MEMBER: Final = (20, 10.0)
QA_AUTOCOMPLETE_PER_SERVER: Final = (60, 10.0)
#: Autocomplete of /ask (in memory, about a millisecond), per user and per server (0: DMs).
ASK_AUTOCOMPLETE_PER_USER: Final = (30, 10.0)
ASK_AUTOCOMPLETE_PER_SERVER: Final = (300, 10.0)
#: Worker threads for CPU-heavy curation work (see bot.core.offload): few, so that the event
#: loop keeps the GIL most of the time.
HEAVY_WORK_THREADS: Final = 1
#: How long a thread running Python keeps the GIL once another wants it (CPython: 5 ms); the
#: event loop waits at most this long for heavy work in a worker at each turn.
GIL_SWITCH_SECONDS: Final = 0.001
#: Normalised phrasings kept for /qa list and autocomplete matching (least recently used go).
NORMALIZED_TEXT_CACHE: Final = 50_000
#: Servers whose entries /qa autocomplete keeps prepared for searching (a few MiB each at the
#: most; least recently searched go first).
SEARCHABLE_SERVERS: Final = 8
#: Memos of the answering core, each cleared when full (their contents are recomputed on the
#: next use): tokenised texts, stems, typo corrections, entity lookups by text and by fuzzy
#: name, and documents read by the answerability checks.
TOKENS_CACHE: Final = 1_024
STEMS_MEMO: Final = 16_384
TYPO_MEMO: Final = 4_096
ENTITY_TEXT_MEMO: Final = 256
ENTITY_FUZZY_MEMO: Final = 16_384
ANSWERABILITY_DOCS_MEMO: Final = 4_096
#: Tables of phrasing fit bounds kept by the scoring formula, one per question key length
#: (each at most one float per phrasing length).
FIT_BOUND_TABLES: Final = 256
#: Phrasing bitsets of documents with more than ten phrasings whose set bits are memoised.
WIDE_BITSETS_MEMO: Final = 4_096

#: Live changes: how often an SQLite process looks at `PRAGMA data_version` (seconds), and how
#: often every process compares all change counters anyway, in case a hint was lost. Together
#: they bound how long another process's change takes to answer here (the target is 2 s).
LIVE_POLL_SECONDS: Final = 0.2
LIVE_RECONCILE_SECONDS: Final = 30.0
