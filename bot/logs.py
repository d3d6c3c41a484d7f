"""Logging set-up shared by the CLI and the bot: one structured line per event, to stderr."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


class _NoVoiceWarnings(logging.Filter):
    """discord.py warns that PyNaCl and davey are missing, for voice this bot never uses."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "voice will NOT be supported" not in record.getMessage()


_VOICE_FILTER = _NoVoiceWarnings()


def configure_logging(level: str | int = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level if isinstance(level, int) else level.upper())
    client = logging.getLogger("discord.client")
    if _VOICE_FILTER not in client.filters:
        client.addFilter(_VOICE_FILTER)


def tag_shards(label: str) -> None:
    """From now on every line says which shards this process runs (`shards=0-1/4`), so the logs
    of several processes can be read together."""
    # The label is digits, ",", "-" and "/": nothing a %-format would read.
    tagged = FORMAT.replace("logger=", f"shards={label} logger=")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(logging.Formatter(tagged))
