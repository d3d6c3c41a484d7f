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


def _settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    for name in ("BOT_SHARD_COUNT", "BOT_SHARD_IDS", "BOT_METRICS_PORT", "BOT_METRICS_HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("env", "label", "shard_zero"),
    [
        ({}, "all", True),
        ({"BOT_SHARD_COUNT": "4"}, "0-3/4", True),
        ({"BOT_SHARD_COUNT": "4", "BOT_SHARD_IDS": "2-3"}, "2-3/4", False),
        ({"BOT_SHARD_COUNT": "4", "BOT_SHARD_IDS": "3, 0"}, "0,3/4", True),
        ({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": " "}, "0-1/2", True),
    ],
)
def test_shard_settings(
    env: dict[str, str], label: str, shard_zero: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _settings_from(env, monkeypatch).shard_plan()
    assert plan.label == label
    assert plan.runs_shard_zero is shard_zero


@pytest.mark.parametrize(
    ("env", "variable", "says"),
    [
        ({"BOT_SHARD_IDS": "0,1"}, "BOT_SHARD_IDS", "needs BOT_SHARD_COUNT"),
        ({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": "1-3"}, "BOT_SHARD_IDS", "from 0 to 1"),
        ({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": "one"}, "BOT_SHARD_IDS", "not a shard id"),
        ({"BOT_SHARD_COUNT": "2", "BOT_SHARD_IDS": "{0}"}, "BOT_SHARD_IDS", "'{0}' is not a shard id"),
        ({"BOT_SHARD_COUNT": "0"}, "BOT_SHARD_COUNT", "greater than or equal to 1"),
        ({"BOT_METRICS_PORT": "70000"}, "BOT_METRICS_PORT", "less than or equal to 65535"),
    ],
)
def test_bad_shard_settings_name_the_variable(
    env: dict[str, str],
    variable: str,
    says: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bot.cli import main

    for name in ("BOT_SHARD_COUNT", "BOT_SHARD_IDS", "BOT_METRICS_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(PROJECT_ROOT / "tests")  # no .env here
    assert main(["kb", "validate"]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"error: invalid setting {variable}: ")
    assert says in error


def test_metrics_are_off_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = _settings_from({}, monkeypatch)
    assert settings.metrics_port is None
    assert _settings_from({"BOT_METRICS_PORT": "9100"}, monkeypatch).metrics_port == 9100
