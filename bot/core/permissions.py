"""Who may curate a server's entries: one pure rule, shared by every adapter.

The Discord cog gathers the facts (the member's Manage Server permission and roles, the
server's configured moderator role, the settings' fallback role) and asks `can_curate`.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Final

#: Shown to a member who may not curate; says what would let them, without naming roles by id.
REFUSAL: Final = (
    "Sorry, only this server's moderators can change the bot's answers here: members with the "
    "Manage Server permission, or with the moderator role this server has set for the bot. "
    "Please ask a server admin if you think you should have access."
)


def can_curate(
    *,
    manage_guild: bool,
    role_ids: Collection[int],
    configured_role_id: int | None,
    fallback_role_id: int | None,
) -> bool:
    """Whether a member may add, edit, remove or revert this server's entries.

    Manage Server always may. Otherwise the server's configured moderator role decides; the
    settings' fallback role counts only while the server has configured none, so a server that
    picked its own role is not overruled by the operator's default.
    """
    if manage_guild:
        return True
    role = configured_role_id if configured_role_id is not None else fallback_role_id
    return role is not None and role in role_ids


__all__ = ["REFUSAL", "can_curate"]
