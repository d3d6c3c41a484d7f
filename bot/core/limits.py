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
