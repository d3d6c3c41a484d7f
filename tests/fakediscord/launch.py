"""Run the bot's command line against a fake Discord, in a process of its own.

    python -m tests.fakediscord.launch http://127.0.0.1:PORT run

points discord.py's REST base and gateway at the fake (as :meth:`FakeDiscord.patch_discord` does
in-process), then runs ``python -m bot`` with the remaining arguments. Run it from the project
root, so the checkout's ``bot`` and ``tests`` packages are the ones imported.
"""

from __future__ import annotations

import sys

import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


def main(argv: list[str]) -> int:
    base = argv[0].rstrip("/")
    if not base.startswith("http://127.0.0.1:"):
        raise SystemExit("launch: the fake Discord must be on http://127.0.0.1:PORT")
    Route.BASE = f"{base}/api/v10"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL("ws" + base.removeprefix("http") + "/")
    from bot.cli import main as cli

    return cli(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
