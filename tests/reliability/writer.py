"""Crash-safety child: moderator writes through the store until it is killed with SIGKILL.

    python tests/reliability/writer.py DB ACTOR SEED

Opens `bot.core.store.Store` on DB, prints ``READY``, then loops forever over the writes a
moderator makes in one server (create, edit, remove, revert), continuing from whatever the
database already holds. After each write's ``await`` has returned, i.e. after its transaction
committed, it prints one acknowledgement line::

    ACK {"id": ..., "version": ..., "answer": ... or null for a removal}

Every write is stamped with ACTOR, so the parent can count exactly what this child wrote.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys

from bot.core.models import Citation, Entry
from bot.core.store import Store, StoredEntry

GUILD = 1_100_000_000_000_000_100


def content(entry_id: str, tag: str) -> Entry:
    return Entry(
        id=entry_id,
        questions=[f"What does {entry_id} say?", f"Tell me about {entry_id}"],
        answer=f"{entry_id} {tag}",
        citations=[
            Citation(source="article", excerpt="attended by U.S. Secretary of State Antony J. Blinken")
        ],
        tags=["crash-test"],
    )


def ack(stored: StoredEntry) -> None:
    answer = None if stored.deleted else stored.entry.answer
    line = json.dumps({"id": stored.id, "version": stored.version, "answer": answer})
    sys.stdout.write(f"ACK {line}\n")
    sys.stdout.flush()


async def main(db: str, actor: int, seed: int) -> None:
    rng = random.Random(seed)
    store = await Store.open(db, busy_timeout=5.0)
    live = {s.id: s.version for s in await store.active_entries(GUILD)}
    removed: dict[str, int] = {}
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    n = 0
    while True:
        roll = rng.random()
        if not live or roll < 0.35:
            n += 1
            entry_id = f"a{actor}-{n}"
            stored = await store.create_entry(GUILD, content(entry_id, "v1"), actor)
        elif roll < 0.85:
            entry_id = rng.choice(sorted(live))
            version = live[entry_id]
            edited = content(entry_id, f"v{version + 1} by {actor}")
            stored = await store.update_entry(GUILD, edited, actor, expected_version=version)
        elif roll < 0.93 or not removed:
            entry_id = rng.choice(sorted(live))
            stored = await store.remove_entry(GUILD, entry_id, actor, expected_version=live[entry_id])
        else:
            entry_id = rng.choice(sorted(removed))
            stored = await store.revert(GUILD, entry_id, removed[entry_id] - 1, actor)
        if stored.deleted:
            live.pop(stored.id, None)
            removed[stored.id] = stored.version
        else:
            removed.pop(stored.id, None)
            live[stored.id] = stored.version
        ack(stored)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
