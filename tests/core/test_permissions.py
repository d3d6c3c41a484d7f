"""Who may curate (bot.core.permissions.can_curate): every combination that matters."""

from __future__ import annotations

import pytest

from bot.core.permissions import REFUSAL, can_curate

MOD_ROLE = 10
FALLBACK = 20
OTHER_ROLE = 30


@pytest.mark.parametrize(
    ("manage_guild", "roles", "configured", "fallback", "allowed"),
    [
        # Manage Server always may, whatever the roles say.
        (True, [], None, None, True),
        (True, [], MOD_ROLE, FALLBACK, True),
        # The server's configured moderator role.
        (False, [MOD_ROLE], MOD_ROLE, None, True),
        (False, [OTHER_ROLE, MOD_ROLE], MOD_ROLE, FALLBACK, True),
        (False, [OTHER_ROLE], MOD_ROLE, None, False),
        # A configured role replaces the fallback: holding only the fallback is not enough.
        (False, [FALLBACK], MOD_ROLE, FALLBACK, False),
        # No configured role: the settings' fallback role decides.
        (False, [FALLBACK], None, FALLBACK, True),
        (False, [OTHER_ROLE], None, FALLBACK, False),
        # Nothing configured anywhere: only Manage Server.
        (False, [MOD_ROLE, FALLBACK, OTHER_ROLE], None, None, False),
        (False, [], None, None, False),
    ],
)
def test_can_curate(
    manage_guild: bool, roles: list[int], configured: int | None, fallback: int | None, allowed: bool
) -> None:
    assert (
        can_curate(
            manage_guild=manage_guild,
            role_ids=frozenset(roles),
            configured_role_id=configured,
            fallback_role_id=fallback,
        )
        is allowed
    )


def test_refusal_says_what_is_needed() -> None:
    assert "Manage Server" in REFUSAL
    assert "moderator role" in REFUSAL
    assert len(REFUSAL) < 2000  # fits one Discord message
