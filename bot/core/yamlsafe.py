"""YAML parsing for untrusted and curated files: safe constructors only, and no aliases.

Anchors and aliases are refused outright: knowledge files have no use for them, and they are
how a small document expands into a huge one (the "billion laughs" alias bomb). Nesting deeper
than `MAX_YAML_DEPTH` is refused before it can exhaust the stack, and a value the safe
constructors cannot build (an impossible date such as 2023-02-30, an integer of thousands of
digits, a malformed `!!float`) is reported with its line like any other YAML error: whatever
the text, the only exception that leaves `load_yaml` is `YamlError`, and its message says
where (line and column) and why, never PyYAML's `in "<unicode string>"`.

Parsing uses libyaml (`yaml.CSafeLoader`) when PyYAML was built with it: the pure-Python parser
is most of the knowledge base's load time. libyaml composes nodes in C, where no hook can refuse
an alias, so its event stream is read first and checked (aliases, anchors, depth); only a clean
document is then loaded. Without libyaml the pure-Python loader checks the same while composing.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent, CollectionEndEvent, CollectionStartEvent, Event, NodeEvent
from yaml.nodes import Node

from bot.core.limits import MAX_YAML_DEPTH

ALIASES_REFUSED = "YAML aliases (*name) and anchors (&name) are not allowed in knowledge files"
TOO_DEEP = f"lists or mappings nested more than {MAX_YAML_DEPTH} deep"


class YamlError(ValueError):
    """The text is not acceptable YAML; the message says where (line, column) and why.

    `line` and `column` count from 1 (None when the parser gave no position)."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None) -> None:
        self.reason = reason
        self.line = line
        self.column = column
        #: "line 3, column 5", or "" when the position is unknown.
        self.where = "" if line is None else f"line {line}" + ("" if column is None else f", column {column}")
        super().__init__(f"{self.where}: {reason}" if self.where else reason)

    def described(self, what: str) -> str:
        """`what` (e.g. "invalid YAML"), where, and why: "invalid YAML (line 3, column 5): ..."."""
        return f"{what} ({self.where}): {self.reason}" if self.where else f"{what}: {self.reason}"


def _refused(reason: str, event: Event) -> YamlError:
    mark = event.start_mark
    return YamlError(reason) if mark is None else YamlError(reason, mark.line + 1, mark.column + 1)


class _ValueErrorsAsYaml:
    """Constructor mixin: a value the safe constructors cannot build is a YAML error with a mark."""

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            # The safe constructors raise these for values that look typed but are not valid:
            # `2023-02-30` (a date), a 5,000-digit integer, `!!float abc`, `!!timestamp x`.
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value ({reason})", node.start_mark
            ) from None


class _NoAliasSafeLoader(_ValueErrorsAsYaml, yaml.SafeLoader):
    """The pure-Python loader, refusing aliases, anchors and deep nesting while composing."""

    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor is not None):
            raise _refused(ALIASES_REFUSED, event)
        if self._depth >= MAX_YAML_DEPTH:
            raise _refused(TOO_DEEP, event)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_CSafeLoader: type[Any] | None = getattr(yaml, "CSafeLoader", None)
_FastLoader: type[Any] | None = (
    None if _CSafeLoader is None else type("_FastLoader", (_ValueErrorsAsYaml, _CSafeLoader), {})
)


def _check_events(text: str | bytes, loader: type[Any]) -> None:
    """Refuse aliases, anchors and nesting past `MAX_YAML_DEPTH` from the parser's events, before
    anything is composed (libyaml would expand an alias bomb in C)."""
    depth = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, AliasEvent) or (isinstance(event, NodeEvent) and event.anchor is not None):
            raise _refused(ALIASES_REFUSED, event)
        if isinstance(event, CollectionStartEvent):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise _refused(TOO_DEEP, event)
        elif isinstance(event, CollectionEndEvent):
            depth -= 1


def _error(exc: yaml.YAMLError) -> YamlError:
    """One line: the reason, with the line and column where the parser stopped (and, for a
    construct it could not finish, where that construct began)."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return YamlError(" ".join(str(exc).split()))
    mark = exc.problem_mark or exc.context_mark
    reason = exc.problem or exc.context or type(exc).__name__
    if exc.problem and exc.context:
        began = exc.context_mark
        at = "" if began is None else f" at line {began.line + 1}, column {began.column + 1}"
        reason = f"{exc.problem} ({exc.context}{at})"
    reason = " ".join(reason.split())
    return YamlError(reason) if mark is None else YamlError(reason, mark.line + 1, mark.column + 1)


def _reader_error(text: str | bytes, exc: yaml.reader.ReaderError, *, in_bytes: bool) -> YamlError:
    """A character the YAML reader refuses, placed by line and column in `text`. libyaml counts
    its position in UTF-8 bytes (`in_bytes`), the pure-Python reader in characters of a str."""
    reason = f"{' '.join(exc.reason.split())} (character #x{exc.character:04x})"
    data: str | bytes = text.encode("utf-8") if in_bytes and isinstance(text, str) else text
    head = data[: max(0, exc.position)]
    before = head.decode("utf-8", "replace") if isinstance(head, bytes) else head
    return YamlError(reason, before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1)


def load_yaml(text: str | bytes) -> Any:
    """Parse one YAML document safely, or raise YamlError with a one-line reason and its line."""
    try:
        if _FastLoader is not None:
            _check_events(text, _FastLoader)
            return yaml.load(text, Loader=_FastLoader)
        return yaml.load(text, Loader=_NoAliasSafeLoader)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(text, exc, in_bytes=_FastLoader is not None) from None
    except yaml.YAMLError as exc:
        raise _error(exc) from None
    except RecursionError:  # a last resort: MAX_YAML_DEPTH stops deep nesting long before
        raise YamlError(TOO_DEEP) from None


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
