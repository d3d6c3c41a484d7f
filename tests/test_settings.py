from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import PROJECT_ROOT, Settings, default_database


def test_env_example_copied_as_is_is_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISCORD_TOKEN", "DEV_GUILD_ID", "BOT_MODERATOR_ROLE_ID"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=PROJECT_ROOT / ".env.example")  # type: ignore[call-arg]
    assert settings.discord_token is None
    assert settings.dev_guild_id is None
    # Copied as is, .env.example keeps the fitted threshold and the per-user data directory.
    assert settings.answer_threshold is None
    assert "answer_threshold" not in settings.answer_options()
    assert settings.database == default_database()


def test_values_from_env_file_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    env.write_text("DISCORD_TOKEN=abc\nDEV_GUILD_ID=123\nBOT_COOLDOWN_RATE=9\n", encoding="utf-8")
    monkeypatch.setenv("BOT_COOLDOWN_RATE", "7")  # the environment wins over .env
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.discord_token is not None and settings.discord_token.get_secret_value() == "abc"
    assert settings.dev_guild_id == 123
    assert settings.cooldown_rate == 7
    assert "abc" not in repr(settings)
