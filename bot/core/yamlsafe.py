"""YAML parsing for untrusted and curated files: safe constructors only, and no aliases.

Anchors and aliases are refused outright: knowledge files have no use for them, and they are
how a small document expands into a huge one (the "billion laughs" alias bomb).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import Node


class YamlError(ValueError):
    """The text is not acceptable YAML; the message says where and why."""


class _NoAliasSafeLoader(yaml.SafeLoader):
    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None, None, "YAML aliases (*name) are not allowed in knowledge files", event.start_mark
            )
        return super().compose_node(parent, index)


def load_yaml(text: str | bytes) -> Any:
    """Parse one YAML document safely, or raise YamlError with a one-line reason."""
    try:
        return yaml.load(text, Loader=_NoAliasSafeLoader)
    except yaml.YAMLError as exc:
        raise YamlError(" ".join(str(exc).split())) from None


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
