"""YAML parsing for untrusted and curated files: safe constructors only, and no aliases.

Anchors and aliases are refused outright: knowledge files have no use for them, and they are
how a small document expands into a huge one (the "billion laughs" alias bomb). Nesting deeper
than `MAX_YAML_DEPTH` is refused before it can exhaust the stack, and a value the safe
constructors cannot build (an impossible date such as 2023-02-30, an integer of thousands of
digits, a malformed `!!float`) is reported with its line like any other YAML error: whatever
the text, the only exception that leaves `load_yaml` is `YamlError`.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import Node

from bot.core.limits import MAX_YAML_DEPTH


class YamlError(ValueError):
    """The text is not acceptable YAML; the message says where and why."""


class _NoAliasSafeLoader(yaml.SafeLoader):
    _depth = 0

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in knowledge files", event.start_mark
            )
        if self._depth >= MAX_YAML_DEPTH:
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, f"lists or mappings nested more than {MAX_YAML_DEPTH} deep", event.start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except yaml.YAMLError:
            raise
        except (ValueError, TypeError, AttributeError, OverflowError) as exc:
            # The safe constructors raise these for values that look typed but are not valid:
            # `2023-02-30` (a date), a 5,000-digit integer, `!!float abc`, `!!timestamp x`.
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise yaml.constructor.ConstructorError(
                None, None, f"cannot read this value ({reason})", node.start_mark
            ) from None


def load_yaml(text: str | bytes) -> Any:
    """Parse one YAML document safely, or raise YamlError with a one-line reason."""
    try:
        return yaml.load(text, Loader=_NoAliasSafeLoader)
    except yaml.YAMLError as exc:
        raise YamlError(" ".join(str(exc).split())) from None
    except RecursionError:  # a last resort: MAX_YAML_DEPTH stops deep nesting long before
        raise YamlError(f"lists or mappings nested more than {MAX_YAML_DEPTH} deep") from None


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
