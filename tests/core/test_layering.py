"""The core never imports discord.py (DESIGN.md): checked on every module of bot.core."""

from __future__ import annotations

import subprocess
import sys

from bot.settings import PROJECT_ROOT

_ROOT = PROJECT_ROOT / "bot" / "core"
#: Every module of bot.core, subpackages included ("retrieval.search").
CORE = sorted(
    ".".join(p.relative_to(_ROOT).with_suffix("").parts) for p in _ROOT.rglob("*.py") if p.stem != "__init__"
)


def test_no_core_module_imports_discord() -> None:
    imports = "; ".join(f"import bot.core.{name}" for name in CORE)
    code = f"import sys; {imports}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'discord'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
    assert len(CORE) >= 10
