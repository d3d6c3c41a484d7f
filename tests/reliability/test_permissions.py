"""The permission matrix: every /qa command x every kind of user, table-driven.

Actors: a member without permission, a member with the server's configured moderator role
(`store.set_moderator_role`), a member with Manage Server, and a user in a DM. Each of the 44
cases goes through the real bot over the fake Discord and checks the outcome in `EXPECTED`:

- refused: an ephemeral message (REFUSAL, MANAGE_SERVER_ONLY or NOT_IN_SERVER), no file, and
  an attached import file is never downloaded;
- allowed: the command proceeds (a modal for add/edit, a deferral then the import report for
  import, an ephemeral reply with its embed, file or buttons for the others).

No case may change anything: even the allowed ones are no-ops (revert to the current version,
import of an empty file, config to the role already set), so the server's entries, their
history and its moderator role are compared after every case. In a DM Discord would not even
offer /qa (the group is guild-only, `dm_permission` false); the bot refuses it anyway.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from bot.core.models import EntryDraft
from bot.core.permissions import REFUSAL
from bot.discord_app.checks import NOT_IN_SERVER
from bot.discord_app.errors import missing_permissions_text
from tests.discord_app.conftest import Live
from tests.discord_app.qa_helpers import (
    QA_SUBCOMMANDS,
    FileHost,
    attachment_option,
    file_host,
    followup,
    is_ephemeral,
    qa,
    respond,
    role_option,
)
from tests.fakediscord import (
    DEFAULT_EVERYONE_PERMISSIONS,
    DM_CHANNEL_ID,
    GUILD_ID,
    MANAGE_GUILD,
    USER_ID,
    payloads,
)
from tests.reliability.conftest import ReliabilityMetrics
from tests.reliability.helpers import live_bot, message_problems, settings_for

MANAGE_SERVER_ONLY = missing_permissions_text(["manage_guild"], "/qa config")
pytestmark = [pytest.mark.reliability, pytest.mark.asyncio(loop_scope="module")]

MOD_ROLE = payloads.role(GUILD_ID + 77, "Q&A moderators", position=2)
MOD_ROLE_ID = int(MOD_ROLE["id"])
STAND = "We stand together with Ukraine against President Putin\u2019s war"
ALLOWED = "allowed"

MEMBER, MODERATOR, MANAGER, DM = "member", "moderator-role", "manage-server", "dm"
ACTORS: dict[str, dict[str, Any]] = {
    MEMBER: {"user": payloads.user(USER_ID + 31, "member"), "permissions": DEFAULT_EVERYONE_PERMISSIONS},
    MODERATOR: {
        "user": payloads.user(USER_ID + 32, "moderator"),
        "permissions": DEFAULT_EVERYONE_PERMISSIONS,
        "roles": [MOD_ROLE_ID],
    },
    MANAGER: {
        "user": payloads.user(USER_ID + 33, "manager"),
        "permissions": DEFAULT_EVERYONE_PERMISSIONS | MANAGE_GUILD,
    },
    DM: {"user": payloads.user(USER_ID + 34, "dm-user"), "guild_id": None, "channel_id": DM_CHANNEL_ID},
}
COMMANDS = list(QA_SUBCOMMANDS)

#: The table: (command, actor) -> ALLOWED or the exact refusal the actor must see.
EXPECTED: dict[tuple[str, str], str] = {}
for _command in COMMANDS:
    EXPECTED[(_command, MEMBER)] = MANAGE_SERVER_ONLY if _command == "config" else REFUSAL
    EXPECTED[(_command, MODERATOR)] = MANAGE_SERVER_ONLY if _command == "config" else ALLOWED
    EXPECTED[(_command, MANAGER)] = ALLOWED
    EXPECTED[(_command, DM)] = NOT_IN_SERVER

#: What "allowed" looks like: the interaction callback type (9 modal, 5 deferred, 4 message).
ALLOWED_TYPE = {"add": 9, "edit": 9, "import": 5}


@dataclass
class Matrix:
    live: Live
    host: FileHost
    entry_id: str


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def matrix(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Matrix]:
    """One bot for all 44 cases: a server with one entry and a configured moderator role."""
    guild = payloads.guild(GUILD_ID, bot=payloads.bot_user(), roles=[MOD_ROLE])
    async with live_bot(settings_for(tmp_path_factory.mktemp("matrix")), guilds=[guild]) as live:
        draft = EntryDraft(
            questions=["What is our club motto?"], answer="Standing with Ukraine.", excerpts=[STAND]
        )
        stored = await live.bot.curation.create(GUILD_ID, draft, USER_ID)
        await live.assistant.store.set_moderator_role(GUILD_ID, MOD_ROLE_ID, USER_ID)
        async with file_host() as host:
            yield Matrix(live, host, stored.id)


def invocation(command: str, entry_id: str, host: FileHost, actor: dict[str, Any]) -> dict[str, Any]:
    options: list[dict[str, Any]] = []
    resolved: dict[str, Any] | None = None
    if command in {"edit", "remove", "history"}:
        options = [payloads.option("id", entry_id)]
    elif command == "revert":
        options = [payloads.option("id", entry_id), payloads.option("version", 1)]
    elif command == "import":
        url = host.serve("empty.yaml", b"entries: []\n")
        option, resolved = attachment_option("file", "empty.yaml", url, 12)
        options = [option]
    elif command == "config":
        option, resolved = role_option("moderator_role", MOD_ROLE)
        options = [option]
    return qa(command, options, resolved=resolved, **actor)


async def state(live: Live, entry_id: str) -> tuple[object, ...]:
    store = live.assistant.store
    return (
        await live.bot.curation.export(GUILD_ID),
        len(await store.history(GUILD_ID, entry_id)),
        await store.get_moderator_role(GUILD_ID),
    )


async def test_the_matrix_covers_every_qa_command_and_actor() -> None:
    assert len(EXPECTED) == 44
    assert sum(1 for v in EXPECTED.values() if v == ALLOWED) == 21  # 10 for the role, 11 for managers


async def test_the_registered_qa_group_is_exactly_the_matrix(matrix: Matrix) -> None:
    put = matrix.live.fake.find_requests("PUT", r"/guilds/\d+/commands$")[0]
    qa_command = next(c for c in put.json if c["name"] == "qa")
    assert sorted(o["name"] for o in qa_command["options"]) == sorted(COMMANDS)
    assert (
        qa_command["dm_permission"] is False and str(qa_command["default_member_permissions"]) == "8192"
    )  # Manage Messages


@pytest.mark.parametrize(("command", "actor"), list(EXPECTED), ids=[f"{c}-{a}" for c, a in EXPECTED])
async def test_permission_matrix(
    matrix: Matrix, reliability_metrics: ReliabilityMetrics, command: str, actor: str
) -> None:
    live, expected = matrix.live, EXPECTED[(command, actor)]
    with reliability_metrics.permission_case():
        before = await state(live, matrix.entry_id)
        downloads = len(matrix.host.downloads)
        interaction = invocation(command, matrix.entry_id, matrix.host, ACTORS[actor])
        body = await respond(live, interaction)
        data = body.get("data") or {}
        if expected != ALLOWED:
            assert body["type"] == 4 and is_ephemeral(body), body
            assert data["content"] == expected
            assert not body["files"] and not data.get("embeds") and not data.get("components")
            assert len(matrix.host.downloads) == downloads, "a refused import was downloaded"
        else:
            assert body["type"] == ALLOWED_TYPE.get(command, 4), body
            content = data.get("content") or ""
            assert content not in (REFUSAL, MANAGE_SERVER_ONLY, NOT_IN_SERVER)
            if command in {"add", "edit"}:
                assert data["custom_id"] and data["components"], "no form"
            elif command == "import":
                report = await followup(live, interaction)
                assert "0 added, 0 updated, 0 unchanged" in report["content"]
                assert len(matrix.host.downloads) == downloads + 1
            else:
                assert is_ephemeral(body)
                assert message_problems(data, mentions_allowed_in_text=True) == []
                shown = {
                    "remove": bool(data.get("components")),  # the confirmation buttons
                    "history": bool(data.get("embeds")),
                    "revert": "nothing changed" in content,
                    "list": bool(data.get("embeds")),
                    "export": list(body["files"]) == [f"qa-{GUILD_ID}.yaml"],
                    "gaps": "No unanswered questions" in content,
                    "stats": bool(data.get("embeds")),
                    "config": "may now curate" in content,
                }[command]
                assert shown, body
        assert await state(live, matrix.entry_id) == before, "the case changed the server's data"
