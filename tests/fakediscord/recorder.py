"""Race-free recording of what the client sent, and fault rules for what the fake answers.

Every item is appended to a log as it arrives. ``wait_for`` hands out each matching item at most
once, oldest first, whether it arrived before or after the wait started - so a test can trigger an
action and *then* wait for its request without ever missing it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass
class RecordedRequest:
    """One REST call the client made, plus what the fake answered."""

    method: str
    path: str  # relative to the API base, e.g. "/interactions/123/tok/callback"
    query: dict[str, str]
    json: Any  # parsed JSON body, or the ``payload_json`` part of a multipart body
    files: dict[str, bytes]  # uploaded files of a multipart body, by filename
    headers: dict[str, str]
    time: float = field(default_factory=time.monotonic)
    status: int = 0
    response: Any = None

    def matches(self, method: str | None, path: str | re.Pattern[str]) -> bool:
        if method is not None and method != "*" and method.upper() != self.method:
            return False
        return re.search(path, self.path) is not None


@dataclass
class GatewayFrame:
    """One JSON frame the client sent on the gateway."""

    op: int
    d: Any
    connection: int  # index into ``FakeDiscord.gateway_connections``
    time: float = field(default_factory=time.monotonic)


class Log(Generic[T]):
    """Append-only log with consuming, non-racy waits."""

    def __init__(self) -> None:
        self.items: list[T] = []
        self._consumed: set[int] = set()
        self._changed = asyncio.Condition()

    async def add(self, item: T) -> None:
        self.items.append(item)
        async with self._changed:
            self._changed.notify_all()

    def find(self, predicate: Callable[[T], bool]) -> list[T]:
        return [item for item in self.items if predicate(item)]

    def _take(self, predicate: Callable[[T], bool]) -> T | None:
        for index, item in enumerate(self.items):
            if index not in self._consumed and predicate(item):
                self._consumed.add(index)
                return item
        return None

    async def wait_for(self, predicate: Callable[[T], bool], within: float, what: str) -> T:
        """Return the oldest not-yet-returned item matching ``predicate``, waiting if needed."""

        async def _wait() -> T:
            async with self._changed:
                while (item := self._take(predicate)) is None:
                    await self._changed.wait()
                return item

        try:
            return await asyncio.wait_for(_wait(), within)
        except TimeoutError:
            seen = "\n  ".join(repr(i) for i in self.items[-15:]) or "(nothing)"
            raise TimeoutError(f"nothing matched {what} within {within}s; last seen:\n  {seen}") from None


@dataclass
class FaultRule:
    """Answer the next ``remaining`` requests matching ``method``/``path`` with a canned error."""

    method: str
    path: str
    status: int
    body: Any
    headers: dict[str, str]
    remaining: int
    hits: int = 0

    def consume(self, method: str, path: str) -> bool:
        if self.remaining <= 0:
            return False
        if self.method != "*" and self.method.upper() != method:
            return False
        if re.search(self.path, path) is None:
            return False
        self.remaining -= 1
        self.hits += 1
        return True


def rate_limit_fault(method: str, path: str, *, times: int, retry_after: float, is_global: bool) -> FaultRule:
    # discord.py treats a 429 without a ``Via`` header (or with a non-JSON body) as a Cloudflare ban
    # and raises instead of retrying, so both are mandatory here.
    body = {"message": "You are being rate limited.", "retry_after": retry_after, "global": is_global}
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(max(1, round(retry_after))),
        "X-RateLimit-Scope": "global" if is_global else "user",
    }
    return FaultRule(method, path, 429, body, headers, times)
