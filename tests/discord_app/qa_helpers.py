"""Helpers for the /qa end-to-end tests: interaction builders, modal round trips, a file host.

Discord serves attachments from its CDN, and `discord.Attachment.read()` GETs the attachment's
`url` with the bot's HTTP session. The fake Discord answers JSON only, so `FileHost` serves raw
bytes from a second loopback server and records every download (to prove a refused file was
never fetched).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.discord_app.conftest import Live, respond
from tests.fakediscord import (
    DEFAULT_EVERYONE_PERMISSIONS,
    GUILD_ID,
    MANAGE_GUILD,
    USER_ID,
    payloads,
    snowflake,
)

JSON = dict[str, Any]
EPHEMERAL = 64

MOD_ID = USER_ID + 10
MOD = payloads.user(MOD_ID, "moderator")
OTHER_MOD = payloads.user(USER_ID + 11, "second-moderator")
MEMBER = payloads.user(USER_ID + 12, "member")
MANAGER_PERMISSIONS = DEFAULT_EVERYONE_PERMISSIONS | MANAGE_GUILD

#: Every /qa subcommand, in the order the cog declares them.
QA_SUBCOMMANDS = (
    "add",
    "edit",
    "remove",
    "history",
    "revert",
    "list",
    "export",
    "import",
    "gaps",
    "stats",
    "config",
)


def as_manager(user: JSON = MOD, **ctx: Any) -> dict[str, Any]:
    """Interaction context of a member with Manage Server."""
    return {"user": user, "permissions": MANAGER_PERMISSIONS, **ctx}


def qa(sub: str, options: Sequence[JSON] = (), *, resolved: JSON | None = None, **ctx: Any) -> JSON:
    """`/qa <sub> ...` by a Manage Server member unless `user`/`permissions` say otherwise."""
    ctx = {**as_manager(), **ctx}
    return payloads.slash_command("qa", [payloads.subcommand(sub, options)], resolved=resolved, **ctx)


def qa_autocomplete(sub: str, options: Sequence[JSON], **ctx: Any) -> JSON:
    """Autocomplete inside `/qa <sub>` (`payloads.autocomplete` only sees top-level options)."""
    if sum(1 for o in options if o.get("focused")) != 1:
        raise ValueError("autocomplete needs exactly one focused option")
    ctx = {**as_manager(), **ctx}
    data: JSON = {
        "id": str(snowflake()),
        "name": "qa",
        "type": payloads.CHAT_INPUT,
        "options": [payloads.subcommand(sub, options)],
    }
    if ctx.get("guild_id", GUILD_ID) is not None:
        data["guild_id"] = str(ctx.get("guild_id", GUILD_ID))
    return payloads.interaction(payloads.AUTOCOMPLETE, data, **ctx)


def ask(question: str, **ctx: Any) -> JSON:
    return payloads.slash_command("ask", [payloads.option("question", question)], **ctx)


async def followup(live: Live, interaction: JSON) -> JSON:
    """The follow-up message sent for a deferred interaction (its JSON body)."""
    path = rf"^/webhooks/\d+/{re.escape(interaction['token'])}$"
    request = await live.fake.wait_for_request("POST", path)
    assert request.json is not None
    return dict(request.json)


def embed_of(body: JSON) -> JSON:
    [embed] = body["data"]["embeds"]
    return embed


def is_ephemeral(body: JSON) -> bool:
    return bool(int(body["data"].get("flags") or 0) & EPHEMERAL)


def buttons(message_or_data: JSON) -> list[JSON]:
    return [c for row in message_or_data.get("components") or [] for c in row["components"]]


def button(message: JSON, label: str) -> JSON:
    return next(b for b in buttons(message) if b.get("label") == label)


def click(message: JSON, label: str, **ctx: Any) -> JSON:
    ctx = {**as_manager(), **ctx}
    return payloads.button_click(button(message, label)["custom_id"], message=message, **ctx)


# ---- modals -----------------------------------------------------------------------------------


def modal_fields(modal: JSON) -> dict[str, JSON]:
    """The text inputs of a modal (type 9 callback `data`), by custom_id."""
    found: dict[str, JSON] = {}
    for row in modal["components"]:
        for comp in row.get("components") or [row.get("component")]:
            if comp and comp.get("type") == payloads.TEXT_INPUT:
                found[comp["custom_id"]] = comp
    return found


def modal_values(modal: JSON) -> dict[str, str]:
    return {key: comp.get("value") or "" for key, comp in modal_fields(modal).items()}


def fill(
    questions: Sequence[str] | str, answer: str, excerpts: Sequence[str] | str, speaker: str = ""
) -> dict[str, str]:
    return {
        "questions": questions if isinstance(questions, str) else "\n".join(questions),
        "answer": answer,
        "excerpts": excerpts if isinstance(excerpts, str) else "\n".join(excerpts),
        "speaker": speaker,
    }


def submit(modal: JSON, values: dict[str, str], **ctx: Any) -> JSON:
    ctx = {**as_manager(), **ctx}
    return payloads.modal_submit(modal["custom_id"], values, **ctx)


async def open_modal(live: Live, interaction: JSON) -> JSON:
    body = await respond(live, interaction)
    assert body["type"] == 9, f"expected a modal, got {body}"
    modal: JSON = body["data"]
    return modal


# ---- attachments ------------------------------------------------------------------------------


@dataclass
class FileHost:
    """Serves bytes at http://127.0.0.1:<port>/files/<name>; records each download."""

    files: dict[str, bytes] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)
    port: int = 0

    async def _get(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.downloads.append(name)
        if name not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[name], content_type="application/octet-stream")

    def serve(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return f"http://127.0.0.1:{self.port}/files/{name}"


@contextlib.asynccontextmanager
async def file_host() -> AsyncIterator[FileHost]:
    host = FileHost()
    app = web.Application()
    app.router.add_get("/files/{name}", host._get)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host.port = runner.addresses[0][1]
    try:
        yield host
    finally:
        await runner.cleanup()


def attachment_option(
    name: str, filename: str, url: str, size: int, content_type: str = "application/x-yaml"
) -> tuple[JSON, JSON]:
    """An attachment option and the `resolved` data Discord sends with it."""
    attachment_id = str(snowflake())
    doc = {
        "id": attachment_id,
        "filename": filename,
        "size": size,
        "url": url,
        "proxy_url": url,
        "content_type": content_type,
        "ephemeral": True,
    }
    option = payloads.option(name, attachment_id, type=payloads.OPT_ATTACHMENT)
    return option, {"attachments": {attachment_id: doc}}


def import_file(
    host: FileHost, data: bytes, *, filename: str = "qa.yaml", size: int | None = None, **ctx: Any
) -> JSON:
    url = host.serve(filename, data)
    option, resolved = attachment_option("file", filename, url, len(data) if size is None else size)
    return qa("import", [option], resolved=resolved, **ctx)


def role_option(name: str, role: JSON) -> tuple[JSON, JSON]:
    option = payloads.option(name, role["id"], type=payloads.OPT_ROLE)
    return option, {"roles": {role["id"]: role}}
