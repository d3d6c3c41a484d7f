"""Secrets: the token is used (and only where it must be), never logged or shown.

A distinctive canary token goes through the real bot over the fake Discord (with an injected
failure), through `python -m bot run` with no network, and through a rejected login (401). It
must appear in the Authorization header and the gateway IDENTIFY (proof it was really used) and
nowhere else: not in any log record (DEBUG included), error message, request body or other
gateway frame. `.env` is git-ignored, no tracked file holds a token, and the README's invite
asks for the least privilege.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path

import discord
import pytest

from bot.discord_app.runner import BAD_TOKEN, StartupError, run_bot, sync_commands
from bot.settings import PROJECT_ROOT
from tests.fakediscord import DM_CHANNEL_ID, fake_discord, paths, payloads, snowflake
from tests.reliability.helpers import ask_payload, live_bot, respond, settings_for

pytestmark = pytest.mark.reliability

README = PROJECT_ROOT / "README.md"
#: The shape of a real bot token (base64 user id . timestamp . HMAC).
TOKEN_SHAPE = r"[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,40}"
IDENTIFY = 2


#: `python -m bot run`, with Discord's API moved to a closed local port so that no machine's
#: network (CI with internet access included) ever sees the canary token.
RUN_OFFLINE = """
import sys
import discord.http
discord.http.Route.BASE = "http://127.0.0.1:9/api/v10"
from bot.cli import main
sys.exit(main(["run"]))
"""


def canary() -> str:
    """A fresh token-shaped secret that cannot occur anywhere by accident."""
    return f"MTA{secrets.token_hex(11)}.Canary.{secrets.token_urlsafe(30)}"


def everything_logged(caplog: pytest.LogCaptureFixture) -> str:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(formatter.format(r) for r in caplog.records)


async def test_the_token_is_used_but_never_logged_or_sent_elsewhere(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    token = canary()
    caplog.set_level(logging.DEBUG)
    settings = settings_for(tmp_path, discord_token=token)
    assert token not in repr(settings) and token not in str(settings)
    assert token not in settings.model_dump_json()
    async with live_bot(settings, token=token) as live:

        def broken(*args: object, **kwargs: object) -> object:
            raise RuntimeError(f"injected failure while settings are {settings!r}")

        answered = await respond(live, ask_payload("Who attended the meeting?", channel_id=snowflake()))
        assert answered["type"] == 4
        live.assistant.service.answer = broken  # type: ignore[method-assign]
        apology = await respond(live, ask_payload("Who attended?", channel_id=snowflake()))
        assert "Sorry" in apology["data"]["content"]
        await live.fake.dispatch("MESSAGE_CREATE", payloads.dm_message("who attended?"))
        dm = await live.fake.wait_for_request("POST", paths.channel_messages(DM_CHANNEL_ID))
        assert "Sorry" in dm.json["content"]
        requests = list(live.fake.requests.items)
        frames = list(live.fake.gateway.frames.items)

    # It was really used: REST calls authenticate with it (interaction callbacks and webhooks
    # use the interaction's own token instead), IDENTIFY carries it.
    authorized = [r for r in requests if "Authorization" in r.headers]
    assert authorized and all(r.headers["Authorization"] == f"Bot {token}" for r in authorized)
    assert all(r.path.startswith(("/interactions/", "/webhooks/")) for r in requests if r not in authorized)
    identify = [f for f in frames if f.op == IDENTIFY]
    assert identify and identify[0].d["token"] == token
    # And it is nowhere else.
    for request in requests:
        assert token not in repr((request.path, request.query, request.json, request.files))
    assert all(token not in repr(f.d) for f in frames if f.op != IDENTIFY)
    logged = everything_logged(caplog)
    assert "injected failure" in logged, "the injected error was not logged at all"
    assert token not in logged


async def test_run_without_network_fails_in_one_line_without_the_token(tmp_path: Path) -> None:
    token = canary()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "DISCORD_"))},
        "PYTHONPATH": str(PROJECT_ROOT),
        "DISCORD_TOKEN": token,
        "BOT_LOG_LEVEL": "DEBUG",
        "BOT_DATABASE": str(tmp_path / "run.sqlite3"),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        RUN_OFFLINE,
        cwd=tmp_path,  # no .env here
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=120)
    text = out.decode() + err.decode()
    assert proc.returncode == 1, text[-3000:]
    last = err.decode().strip().splitlines()[-1]
    assert last.startswith("error: Cannot reach Discord"), last
    assert "logging in using static token" in text, "the run never got as far as using the token"
    assert token not in text


@pytest.mark.parametrize("entry", ["run", "sync"])
async def test_a_rejected_token_gives_one_clear_line_without_the_token(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, entry: str
) -> None:
    token = canary()
    caplog.set_level(logging.DEBUG)
    settings = settings_for(tmp_path, discord_token=token)
    async with fake_discord() as fake:
        fake.fail_next("GET", r"^/users/@me$", status=401, body={"message": "401: Unauthorized", "code": 0})
        with pytest.raises(StartupError) as info:
            if entry == "run":
                await run_bot(settings)
            else:
                await sync_commands(settings, None)
        [login] = fake.find_requests("GET", r"^/users/@me$")
        assert login.status == 401 and login.headers["Authorization"] == f"Bot {token}"
    message = str(info.value)
    assert message == BAD_TOKEN and "\n" not in message
    assert token not in message and token not in repr(info.value)
    assert token not in everything_logged(caplog)
    assert isinstance(info.value.__context__, discord.LoginFailure)


def git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(
    not (PROJECT_ROOT / ".git").exists() or shutil.which("git") is None, reason="needs git and a git checkout"
)
def test_dotenv_is_git_ignored_and_no_token_is_tracked() -> None:
    assert git("check-ignore", "-q", ".env").returncode == 0, ".env is not git-ignored"
    assert git("check-ignore", "-q", "some/dir/.env").returncode == 0, "a nested .env is not ignored"
    tracked = git("ls-files").stdout.splitlines()
    assert tracked, "git ls-files listed nothing"
    assert not [f for f in tracked if Path(f).name == ".env"]
    found = git("grep", "-n", "-I", "-E", TOKEN_SHAPE, "--", ".")
    assert found.returncode == 1, f"something shaped like a bot token is tracked:\n{found.stdout[:500]}"
    assert re.fullmatch(TOKEN_SHAPE, canary()), "the token pattern would not even match a token"


@pytest.mark.skipif(not README.exists(), reason="README.md is missing")
def test_readme_invites_with_least_privilege() -> None:
    text = README.read_text(encoding="utf-8")
    assert "applications.commands" in text
    urls = re.findall(r"https://discord\.com/oauth2/authorize\?\S+", text)
    assert urls, "no invite URL in the README"
    for url in urls:
        assert re.search(r"[?&]scope=bot(\+|%20)applications\.commands(&|`|$)", url), url
        granted = discord.Permissions(int(re.search(r"[?&]permissions=(\d+)", url)[1]))  # type: ignore[index]
        needed = discord.Permissions(
            view_channel=True,
            send_messages=True,
            send_messages_in_threads=True,
            embed_links=True,
            attach_files=True,
            read_message_history=True,
        )
        assert granted == needed, f"invite grants {granted.value}, least privilege is {needed.value}"
        assert not (granted.administrator or granted.mention_everyone or granted.manage_messages)
