from __future__ import annotations

from discord import app_commands

from bot.discord_app.errors import missing_permissions_text, user_message


def test_a_missing_permission_is_named_as_discord_shows_it() -> None:
    assert missing_permissions_text(["manage_guild"], "/qa config") == (
        "Sorry, only members with the Manage Server permission can use /qa config."
    )
    assert missing_permissions_text(["manage_guild", "manage_roles"], "/x") == (
        "Sorry, only members with the Manage Server and Manage Roles permissions can use /x."
    )


def test_discordpys_missing_permissions_check_gets_the_polite_refusal() -> None:
    error = app_commands.MissingPermissions(["manage_guild"])
    assert user_message(error, "/qa config") == missing_permissions_text(["manage_guild"], "/qa config")
