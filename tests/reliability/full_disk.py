"""A really full filesystem for the storage-fault tests, and the scenarios run on it.

A test cannot fill the machine's disk, but it can often mount a small tmpfs of its own in a
private mount namespace (`unshare --user --map-root-user --mount`, or `unshare --mount` for
root with CAP_SYS_ADMIN) and fill that: SQLite then meets ENOSPC exactly as on a full disk.
The namespace belongs to a child process, so each scenario runs there, as

    python -m tests.reliability.full_disk SCENARIO DIR [--rlimit]

and prints what it observed as one JSON line for the test to judge. Where no namespace can be
had, `--rlimit` simulates the full disk instead: RLIMIT_FSIZE makes every write that grows a
file past its limit fail with EFBIG, which SQLite reports as "database or disk is full".

Scenarios:
- ``startup``: DIR is full before the bot starts; runs ``python -m bot ask`` on it.
- ``running``: a seeded database with one acknowledged server entry; the disk fills up; the
  bot keeps answering, drops (and counts) question-log entries, and curation says the storage
  is full; once space is freed, everything acknowledged is still there.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: The small filesystem: room for the seeded database, and little else.
TMPFS_SIZE = "4m"
FILLER = "filler.bin"
GUILD = 111_111_111_111_111_111
ATTENDED = "attended by U.S. Secretary of State Antony J. Blinken"
QUESTIONS = ["Who attended the meeting?", "where was the meeting held", "when was it", "who is hamada"]


# ---- in the test process: how to get a real full filesystem -----------------------------------


def _mounting(prefix: list[str]) -> list[str]:
    """`prefix` + a shell that mounts a tmpfs on its first argument, then runs the rest."""
    script = f'mount -t tmpfs -o size={TMPFS_SIZE},mode=0777 tmpfs "$1" && shift && exec "$@"'
    return [*prefix, "sh", "-c", script, "sh"]


@functools.cache
def namespace() -> tuple[list[str] | None, str]:
    """(command prefix that runs `DIR CMD...` with a fresh tmpfs on DIR, None) or (None, why
    not), trying an unprivileged user namespace first, then a mount namespace as root."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return None, "no unshare(1) on this machine"
    tried: list[str] = []
    for prefix in ([unshare, "--user", "--map-root-user", "--mount"], [unshare, "--mount"]):
        with tempfile.TemporaryDirectory() as probe:
            command = [*_mounting(prefix), probe, "stat", "-f", "-c", "%T", probe]
            result = subprocess.run(command, capture_output=True, text=True, timeout=30)
        if result.returncode == 0 and result.stdout.strip() == "tmpfs":
            return _mounting(prefix), ""
        tried.append(
            f"{' '.join(prefix[1:])}: {(result.stderr or '').strip() or f'exit {result.returncode}'}"
        )
    return None, "no private tmpfs could be mounted (" + "; ".join(tried) + ")"


def run_scenario(
    scenario: str, directory: Path, *, rlimit: bool, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run a scenario in a child process: on a real tmpfs, or with RLIMIT_FSIZE if `rlimit`."""
    env = {
        **os.environ,
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "PYTHONIOENCODING": "utf-8",
    }
    child = [sys.executable, "-m", "tests.reliability.full_disk", scenario, str(directory)]
    if rlimit:
        command = [*child, "--rlimit"]
    else:
        prefix, why = namespace()
        if prefix is None:
            raise RuntimeError(why)
        command = [*prefix, str(directory), *child]
    return subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True, timeout=timeout)


# ---- in the child: filling the disk and the scenarios ------------------------------------------


def fill(directory: Path) -> int:
    """Write a file until the filesystem has no byte left; its size."""
    written = 0
    with open(directory / FILLER, "wb", buffering=0) as out:
        for block in (1 << 20, 1 << 12, 1):
            chunk = b"\0" * block
            while True:
                try:
                    written += out.write(chunk) or 0
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    break
    return written


def limit_growth(directory: Path) -> None:
    """The RLIMIT_FSIZE stand-in: no file of this process may grow past its current size (the
    question log and entries are appended to the -wal; fresh files may hold only 8 KiB)."""
    largest = max((p.stat().st_size for p in directory.iterdir() if p.is_file()), default=0)
    _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (max(largest, 8 * 1024), hard))  # soft: undone later


def startup(directory: Path, rlimit: bool) -> None:
    if rlimit:
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 * 1024, 8 * 1024))
    else:
        fill(directory)
    env = {**os.environ, "BOT_DATABASE": str(directory / "bot.sqlite3")}
    os.execvpe(sys.executable, [sys.executable, "-m", "bot", "ask", QUESTIONS[0]], env)


async def running(directory: Path, rlimit: bool) -> dict[str, object]:
    from bot.core.assistant import Assistant
    from bot.core.curation import CurationService
    from bot.core.models import EntryDraft
    from bot.core.store import StoreError
    from bot.settings import Settings

    settings = Settings(database=directory / "bot.sqlite3", db_busy_timeout=1.0)
    observed: dict[str, object] = {}
    assistant = await Assistant.start(settings)
    try:
        curation = CurationService(assistant, max_entries_per_guild=10)
        draft = EntryDraft(questions=["What is our club motto?"], answer="Unity.", excerpts=[ATTENDED])
        acknowledged = await curation.create(GUILD, draft, 42)
        assert await assistant.questions.flush(10)
        observed["free_before"] = shutil.disk_usage(directory).free
        if rlimit:
            limit_growth(directory)
        else:
            observed["filled"] = fill(directory)
        observed["free_after"] = shutil.disk_usage(directory).free
        written_before = assistant.questions.written
        # A hundred rounds of questions: far more log than the -wal's free pages can hold.
        answers = []
        for round_ in range(100):
            for n, question in enumerate(QUESTIONS):
                result = await assistant.ask(question, GUILD, channel_id=1, user_id=round_ * 10 + n)
                answers.append(result.answer.answered)
            await assistant.questions.flush(10)
        motto = await assistant.ask("What is our club motto?", GUILD, channel_id=1, user_id=7)
        await assistant.questions.flush(10)
        observed["asked"] = len(answers)
        observed["answered"] = sum(answers)
        observed["motto_answered"] = motto.answer.answered and motto.answer.answer == "Unity."
        observed["log_written"] = assistant.questions.written - written_before
        observed["log_dropped"] = assistant.questions.dropped
        try:
            big = EntryDraft(
                questions=[f"What is our club rule number {n}?" for n in range(10)],
                answer="Be kind. " * 150,
                excerpts=[ATTENDED],
            )
            await curation.create(GUILD, big, 42)
            observed["curation_error"] = None
        except StoreError as exc:
            observed["curation_error"] = f"{type(exc).__name__}: {exc}"
        observed["entries_while_full"] = [s.id for s in await assistant.store.active_entries(GUILD)]
        observed["acknowledged"] = acknowledged.id
    finally:
        await assistant.close()
    # Space is freed (the filler removed, the limit lifted): nothing acknowledged was lost.
    with contextlib.suppress(FileNotFoundError):
        (directory / FILLER).unlink()
    if rlimit:
        _soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
    reopened = await Assistant.start(settings)
    try:
        observed["available_after"] = reopened.store.available
        observed["entries_after"] = [s.id for s in await reopened.store.active_entries(GUILD)]
        observed["motto_after"] = reopened.service.answer("What is our club motto?", GUILD).answered
    finally:
        await reopened.close()
    return observed


def main(argv: list[str]) -> None:
    scenario, directory, rlimit = argv[0], Path(argv[1]), "--rlimit" in argv[2:]
    if scenario == "startup":
        startup(directory, rlimit)
    elif scenario == "running":
        observed = asyncio.run(running(directory, rlimit))
        print(json.dumps(observed), flush=True)
    else:
        raise SystemExit(f"unknown scenario {scenario!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
