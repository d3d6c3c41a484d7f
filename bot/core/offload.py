"""CPU work that must not hold the event loop: one small pool shared by every server.

Parsing a server's entries, matching a moderator's search against them, dumping or parsing an
import file: tens to hundreds of milliseconds of Python each. On the event loop they would
stall every server's answers; on the default executor, several at once would crowd the event
loop out of the GIL. They run here instead, at most `HEAVY_WORK_THREADS` at a time, queued
in order: a busy server waits for its own work, not the others for it. The interpreter hands
the GIL back to the event loop within `GIL_SWITCH_SECONDS` of its asking.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from bot.core.limits import GIL_SWITCH_SECONDS, HEAVY_WORK_THREADS

P = ParamSpec("P")
R = TypeVar("R")

_POOL = ThreadPoolExecutor(max_workers=HEAVY_WORK_THREADS, thread_name_prefix="heavy-work")
# A worker running Python code keeps the GIL until another thread has waited this long for it
# (CPython's default is 5 ms): with the event loop asking at every turn, the default would
# make each turn wait up to 5 ms while heavy work runs. Switching costs microseconds, and only
# when two threads want to run.
sys.setswitchinterval(GIL_SWITCH_SECONDS)


async def run_heavy(func: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """`func(*args, **kwargs)` on the shared worker pool; awaits its result."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_POOL, functools.partial(func, *args, **kwargs))
