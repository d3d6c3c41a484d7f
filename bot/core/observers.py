"""Who wants to know what the assistant did: metrics, in the bot; nobody, in the CLI.

The core only reports; what is counted and where it is exported is the adapter's business.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.answers import Answer


class AssistantObserver(Protocol):
    def answered(self, answer: Answer, seconds: float) -> None:
        """A question was answered or declined; `seconds` is the answer service's own time."""
