"""Command-line adapter: `python -m bot ask|console|kb|run|sync`.

The ask/console/kb paths import nothing from discord.py, so they start fast and work on a
machine with no Discord token at all.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, TextIO

from pydantic import ValidationError

from bot.core.answers import Answer
from bot.core.loader import KnowledgeError, load_knowledge
from bot.core.store import StoreError
from bot.core.wording import plural
from bot.logs import configure_logging
from bot.settings import Settings, env_name

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class CliError(Exception):
    """An error to report as one line on stderr, with an exit status."""

    def __init__(self, message: str, status: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.status = status


def format_answer(answer: Answer, *, numbered: bool = False) -> str:
    """Human-readable answer: the text, then each excerpt quoted with where it stands.

    `numbered`: the suggestions are numbered, for the console, where typing a number asks it."""
    lines = [answer.answer]
    for cit in answer.citations:
        who = f"{cit.speaker}, " if cit.speaker else ""
        lines.append(f"  \u201c{cit.excerpt}\u201d \u2014 {who}{cit.location}, {cit.source}")
    if answer.suggestions:
        lines.append("You could ask (type its number):" if numbered else "You could ask:")
        lines.extend(
            f"  {n}. {s}" if numbered else f"  - {s}" for n, s in enumerate(answer.suggestions, start=1)
        )
    if answer.answered:
        lines.append(f"(confidence {answer.confidence:.2f}; entry {answer.entry_id})")
    return "\n".join(lines)


def _dump(answer: Answer) -> str:
    return json.dumps(answer.contract(), ensure_ascii=False)


def _lines(stream: TextIO) -> Iterator[str]:
    """The lines of `stream`; bytes that are not UTF-8 become U+FFFD instead of ending the batch."""
    raw: BinaryIO | None = getattr(stream, "buffer", None)
    if raw is None:
        yield from stream
        return
    for line in raw:
        yield line.decode("utf-8", "replace")


async def _ask(settings: Settings, args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from bot.core.assistant import Assistant

    assistant = await Assistant.start(settings)
    try:
        if args.jsonl:
            if args.question:
                raise CliError(
                    "--jsonl reads one question per line of standard input; ask a single question "
                    "without --jsonl, or pipe the questions in",
                    EXIT_USAGE,
                )
            for line in _lines(stdin):
                result = await assistant.ask(line.rstrip("\r\n"), args.guild)
                stdout.write(_dump(result.answer) + "\n")
                stdout.flush()
            return EXIT_OK
        if not args.question:
            raise CliError('no question given: python -m bot ask "Who attended the meeting?"', EXIT_USAGE)
        question = " ".join(args.question)
        result = await assistant.ask(question, args.guild)
        stdout.write((_dump(result.answer) if args.json else format_answer(result.answer)) + "\n")
        return EXIT_OK
    finally:
        await assistant.close()


async def _console(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    from bot.core.assistant import Assistant

    assistant = await Assistant.start(settings)
    gc.freeze()  # as `run` does: the index is long-lived, keep it out of full collections
    stdout.write(
        "Ask about the U.S.\u2013Japan 2+2 meeting of January 11, 2023. Empty line or Ctrl-D quits.\n"
    )
    #: The suggestions of the last answer, numbered from 1: typing a number asks that one.
    offered: list[tuple[str, str | None]] = []
    try:
        while True:
            try:
                line = await asyncio.to_thread(input, "you> ")
            except EOFError:
                break
            if not line.strip():
                break
            chosen = _chosen_suggestion(line, offered)
            result = None
            if chosen is not None:
                question, key = chosen
                if key is not None:
                    result = await assistant.ask_document(question, key, args.guild)
                # The entry behind a suggestion can be gone since: then ask it as typed.
                line = question
            if result is None:
                result = await assistant.ask(line, args.guild)
            answer = result.answer
            keys = answer.suggestion_keys
            offered = [(s, keys[n] if n < len(keys) else None) for n, s in enumerate(answer.suggestions)]
            text = format_answer(answer, numbered=True)
            stdout.write("bot> " + text.replace("\n", "\n     ") + "\n")
            stdout.flush()
    finally:
        await assistant.close()
    return EXIT_OK


def _chosen_suggestion(line: str, offered: Sequence[tuple[str, str | None]]) -> tuple[str, str | None] | None:
    """The suggestion a console line picks by its number ("2", " 2. "), or None: any other line
    (a number with nothing offered under it too) is a question of its own."""
    text = line.strip().rstrip(".)")
    if not text.isdigit() or not text.isascii():
        return None
    number = int(text)
    return offered[number - 1] if 1 <= number <= len(offered) else None


def _read_import_file(name: str) -> bytes:
    """The file's bytes, read no further than one byte past the import cap (the service refuses it).

    A regular file over the cap is refused by its size, without reading it."""
    from bot.core.curation import import_size_problem
    from bot.core.limits import MAX_IMPORT_BYTES

    try:
        if name == "-":
            return sys.stdin.buffer.read(MAX_IMPORT_BYTES + 1)
        with open(name, "rb") as handle:
            problem = import_size_problem(os.fstat(handle.fileno()).st_size)
            if problem is not None:
                raise CliError(f"{name} was not imported: {problem}")
            return handle.read(MAX_IMPORT_BYTES + 1)
    except OSError as exc:
        raise CliError(f"cannot read {name}: {exc.strerror or exc}") from None


async def _kb_transfer(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    """`kb export` / `kb import`: a server's entries to or from YAML, through the curation service."""
    from bot.core.assistant import Assistant
    from bot.core.curation import CurationService, ImportInvalid

    data = b""
    if args.kb_command == "import":
        data = _read_import_file(args.file)  # --guild is required by the parser
    assistant = await Assistant.start(settings)
    try:
        curation = CurationService(assistant, max_entries_per_guild=settings.max_entries_per_guild)
        if args.kb_command == "export":
            exported = await curation.export(args.guild)
            if args.output is None:
                stdout.write(exported.text)
                return EXIT_OK
            try:
                args.output.write_text(exported.text, encoding="utf-8")
            except OSError as exc:
                raise CliError(f"cannot write {args.output}: {exc.strerror or exc}") from None
            stdout.write(f"exported {plural(exported.count, 'entry')} to {args.output}\n")
            return EXIT_OK
        try:
            report = await curation.import_yaml(args.guild, data, args.actor)
        except ImportInvalid as exc:
            problems = plural(len(exc.problems), "problem")
            sys.stderr.write(f"error: {args.file} was not imported ({problems}):\n")
            for problem in exc.problems:
                sys.stderr.write(f"  {problem}\n")
            return EXIT_ERROR
        stdout.write(
            f"imported into server {args.guild}: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged\n"
        )
        return EXIT_OK
    finally:
        await assistant.close()


def _kb(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    if args.kb_command in {"export", "import"}:
        return asyncio.run(_kb_transfer(settings, args, stdout))
    kb = load_knowledge(settings.knowledge_dir)
    stats = kb.stats()
    if args.kb_command == "validate":
        stdout.write(f"knowledge base OK: {', '.join(f'{v} {k}' for k, v in stats.items())}\n")
    else:
        stdout.write(json.dumps({**stats, "database": str(settings.database)}, indent=2) + "\n")
    return EXIT_OK


def _discord(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    # Imported here so that ask/console/kb never pay for importing discord.py.
    from bot.discord_app.runner import StartupError, run_bot, sync_commands

    try:
        if args.command == "run":
            asyncio.run(run_bot(settings))
        else:
            count = asyncio.run(sync_commands(settings, args.guild))
            where = f"to server {args.guild}" if args.guild else "globally (may take up to an hour to show)"
            stdout.write(f"synced {count} commands {where}\n")
    except StartupError as exc:
        raise CliError(str(exc)) from None
    return EXIT_OK


def _guild_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a server id: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"not a server id: {text!r} (ids are positive)")
    return value


def _eval(settings: Settings, args: argparse.Namespace, stdout: TextIO) -> int:
    """Score the answer service (in process, no store) on each question set."""
    from bot.core.answers import AnswerService
    from bot.evaluation.scoring import evaluate, load_questions

    kb = load_knowledge(settings.knowledge_dir)
    service = AnswerService(kb, **settings.answer_options())
    article = "\n\n".join(source.text for source in kb.sources.values())
    for path in args.questions:
        try:
            questions = load_questions(path)
        except (OSError, ValueError) as exc:
            raise CliError(str(exc)) from None
        report = evaluate(questions, service.answer, article)
        if args.misses:
            stdout.write("".join(f"{line}\n" for line in report.misses()))
        if len(args.questions) > 1:
            stdout.write(f"{path}:\n")
        stdout.write(f"{report.kind_line()}\n{report.summary()}\n")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot", description="Q&A bot for the January 2023 U.S.-Japan 2+2 meeting."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    ask = sub.add_parser("ask", help="answer one question (or many with --jsonl)")
    ask.add_argument("question", nargs="*", help="the question")
    mode = ask.add_mutually_exclusive_group()
    mode.add_argument("--json", action="store_true", help="print the answer contract as one JSON object")
    mode.add_argument(
        "--jsonl", action="store_true", help="read one question per stdin line, write JSON lines"
    )
    ask.add_argument("--guild", type=_guild_id, default=None, help="also use this server's entries")

    console = sub.add_parser("console", help="interactive local chat")
    console.add_argument("--guild", type=_guild_id, default=None, help="also use this server's entries")

    sub.add_parser("run", help="start the Discord bot (needs DISCORD_TOKEN)")
    sync = sub.add_parser("sync", help="sync slash commands with Discord now")
    sync.add_argument("--guild", type=_guild_id, default=None, help="sync to this server only (instant)")

    ev = sub.add_parser(
        "eval",
        help="score the bot on a question set (JSON lines: q, expect, kind), as the shared scorer does",
    )
    ev.add_argument("questions", type=Path, nargs="+", help="question set(s), e.g. tests/data/eval/dev.jsonl")
    ev.add_argument("--misses", action="store_true", help="also list every question it got wrong")

    kb = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    kb_sub.add_parser("validate", help="check every file; print counts or every problem")
    kb_sub.add_parser("stats", help="print counts as JSON")
    export = kb_sub.add_parser("export", help="print a server's entries as YAML (knowledge/entries format)")
    export.add_argument("--guild", type=_guild_id, default=None, help="server id (default: the curated base)")
    export.add_argument("-o", "--output", type=Path, default=None, help="write to FILE, not stdout")
    imp = kb_sub.add_parser("import", help="add or update a server's entries from YAML, all or nothing")
    imp.add_argument(
        "--guild", type=_guild_id, required=True, help="server id (the curated base is read-only)"
    )
    imp.add_argument("file", help="YAML file in the export format ('-' reads stdin)")
    imp.add_argument(
        "--actor", type=int, default=0, help="user id recorded in the history (default 0: the command line)"
    )
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = env_name(str(first["loc"][0])) if first["loc"] else "a setting"
        sys.stderr.write(f"error: invalid setting {name}: {first['msg']}\n")
        return EXIT_USAGE
    # Only the long-running bot logs at INFO by default; one-shot commands keep stderr quiet.
    level = settings.log_level.upper()
    configure_logging(level if args.command in {"run", "sync"} or level == "DEBUG" else "WARNING")
    try:
        if args.command == "ask":
            return asyncio.run(_ask(settings, args, stdin, stdout))
        if args.command == "console":
            return asyncio.run(_console(settings, args, stdout))
        if args.command == "kb":
            return _kb(settings, args, stdout)
        if args.command == "eval":
            return _eval(settings, args, stdout)
        if args.command in {"run", "sync"}:
            return _discord(settings, args, stdout)
        raise CliError(f"unknown command {args.command}", EXIT_USAGE)
    except KnowledgeError as exc:
        sys.stderr.write(f"error: the knowledge base is invalid ({plural(len(exc.problems), 'problem')}):\n")
        for problem in exc.problems:
            sys.stderr.write(f"  {problem}\n")
        return EXIT_ERROR
    except StoreError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return EXIT_ERROR
    except CliError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return exc.status
    except KeyboardInterrupt:
        return 130
