"""`docker-compose.yml`: it parses, and the settings it gives each bot process make a valid plan.

No image registry is reachable here, so the file is checked the way Compose reads it: YAML with
merge keys, `${VAR}` / `${VAR:-default}` / `${VAR:?error}` taken from `.env`, then each bot's
environment goes through the real `Settings`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.core.store.url import PostgresUrl
from bot.settings import PROJECT_ROOT, Settings, env_name

COMPOSE = PROJECT_ROOT / "docker-compose.yml"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


def dotenv(path: Path, **over: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return {**values, **over}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's variable syntax (the forms this project uses)."""

    def value(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        current = env.get(name)
        missing = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in ("-", ":-"):
            return arg if missing else str(current)
        if op in ("?", ":?"):
            if missing:
                raise ValueError(f"{name}: {arg}")
            return str(current)
        return current or ""

    return _VARIABLE.sub(value, text)


def compose(env: dict[str, str]) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(interpolate(COMPOSE.read_text(encoding="utf-8"), env))
    return document


def settings_of(service: dict[str, Any], env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """What the bot in `service` reads: `.env` (env_file), overridden by `environment:`."""
    with monkeypatch.context() as patch:
        for name, value in {**env, **service["environment"]}.items():
            patch.setenv(name, str(value))
        return Settings(_env_file=None)  # type: ignore[call-arg]


def bots(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in document["services"].items() if name.startswith("bot")}


def test_postgres_and_two_bot_processes_from_one_env(monkeypatch: pytest.MonkeyPatch) -> None:
    env = dotenv(ENV_EXAMPLE, DISCORD_TOKEN="t", POSTGRES_PASSWORD="s3cret")
    document = compose(env)
    assert set(document["services"]) == {"postgres", "bot-1", "bot-2"}
    postgres = document["services"]["postgres"]
    assert postgres["image"] == "postgres:16" and "pg_isready" in postgres["healthcheck"]["test"][1]
    assert "postgres-data" in document["volumes"]

    plans = []
    for name, service in bots(document).items():
        assert service["env_file"] == ".env" and service["build"] == "."
        assert service["depends_on"] == {"postgres": {"condition": "service_healthy"}}
        settings = settings_of(service, env, monkeypatch)
        assert isinstance(settings.database, PostgresUrl), name
        assert "@postgres:5432/bot" in settings.database.dsn() and "s3cret" not in str(settings.database)
        # The health check and the published port reach the metrics endpoint.
        assert settings.metrics_host == "0.0.0.0"
        assert f"127.0.0.1:{settings.metrics_port}/health" in service["healthcheck"]["test"][-1]
        assert service["ports"][0].startswith("127.0.0.1:") and service["ports"][0].endswith(
            f":{settings.metrics_port}"
        )
        plans.append(settings.shard_plan())
    assert [p.shard_ids for p in plans] == [(0,), (1,)] and {p.count for p in plans} == {2}


@pytest.mark.parametrize(
    ("count", "first", "second"),
    [("4", "0-1", "2-3"), ("3", "0,2", "1"), ("6", "0-2", "3-5")],
)
def test_shard_ranges_come_from_the_env(
    count: str, first: str, second: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = dotenv(
        ENV_EXAMPLE,
        POSTGRES_PASSWORD="pw",
        BOT_SHARD_COUNT=count,
        BOT_SHARD_IDS_1=first,
        BOT_SHARD_IDS_2=second,
    )
    plans = [settings_of(s, env, monkeypatch).shard_plan() for s in bots(compose(env)).values()]
    ids = [shard for plan in plans for shard in plan.shard_ids or ()]
    # Every shard runs exactly once, and one process (the one with shard 0) syncs commands.
    assert sorted(ids) == list(range(int(count)))
    assert sum(plan.runs_shard_zero for plan in plans) == 1


def test_a_missing_postgres_password_is_named() -> None:
    with pytest.raises(ValueError, match=r"POSTGRES_PASSWORD: set POSTGRES_PASSWORD in \.env"):
        compose(dotenv(ENV_EXAMPLE, POSTGRES_PASSWORD=""))


def test_every_bot_variable_is_a_setting() -> None:
    known = {env_name(field) for field in Settings.model_fields}
    document = compose(dotenv(ENV_EXAMPLE, POSTGRES_PASSWORD="pw"))
    for service in bots(document).values():
        unknown = {n for n in service["environment"] if n.startswith("BOT_")} - known
        assert not unknown, f"not settings (typos?): {unknown}"
    # .env.example too: every BOT_ line, set or commented out, is a setting or a compose variable.
    compose_only = set(_VARIABLE.findall(COMPOSE.read_text(encoding="utf-8")))
    compose_names = {name for name, _, _ in compose_only}
    names = re.findall(r"^#?\s*(BOT_\w+)=", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE)
    assert names and set(names) <= known | compose_names
