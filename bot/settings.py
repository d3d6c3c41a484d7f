"""Runtime settings: one pydantic-settings class, read from the environment and `.env`.

`DISCORD_TOKEN`, `DEV_GUILD_ID` keep their conventional names; everything else is `BOT_*`.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.core.store.url import PostgresUrl, is_postgres_url
from bot.sharding import ShardPlan, ShardSpecError, format_shard_ids, parse_shard_ids

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The curated base shipped with the package (bot/knowledge links to the checkout's knowledge/).
PACKAGED_KNOWLEDGE = Path(str(resources.files("bot").joinpath("knowledge"))).resolve()


def default_database() -> Path:
    """The SQLite file when BOT_DATABASE is not set: the user's data directory (XDG), never a
    path relative to wherever the command happens to run."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "meeting-bot" / "bot.sqlite3"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="BOT_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
        env_ignore_empty=True,
    )

    discord_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("DISCORD_TOKEN", "BOT_DISCORD_TOKEN")
    )
    dev_guild_id: int | None = Field(
        default=None, validation_alias=AliasChoices("DEV_GUILD_ID", "BOT_DEV_GUILD_ID")
    )
    #: An SQLite file path, or a PostgreSQL URL (`postgresql://USER:PASS@HOST:PORT/DB`) that
    #: prints without its password.
    database: Path | PostgresUrl = Field(default_factory=default_database)
    knowledge_dir: Path = Field(default=PACKAGED_KNOWLEDGE)
    log_level: str = Field(default="INFO")

    # Matching thresholds (0..1): answer at or above `answer_threshold`, else abstain. Unset, the
    # values fitted on the evaluation's train split apply (bot/core/retrieval/weights.py).
    answer_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    suggestion_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    max_suggestions: int = Field(default=3, ge=0, le=25)

    # Curation.
    moderator_role_id: int | None = Field(
        default=None, description="Fallback moderator role when a server has not configured one"
    )
    max_entries_per_guild: int = Field(default=500, ge=1)

    # Abuse control: per-user question rate, and how long an identical answer is not reposted.
    cooldown_rate: int = Field(default=5, ge=1)
    cooldown_per_seconds: float = Field(default=30.0, gt=0)
    duplicate_window_seconds: float = Field(default=20.0, ge=0)

    # Busy timeout, seconds: how long a writer waits for a lock before giving up politely.
    db_busy_timeout: float = Field(default=5.0, gt=0)
    # PostgreSQL: the most connections one process's pool opens (plus one to listen for changes).
    db_pool_size: int = Field(default=4, ge=1, le=100)

    # Sharding (see bot/sharding.py): the total across all processes, and this process's part
    # ("0,1" or "0-3"). Unset: one process runs as many shards as Discord recommends.
    shard_count: int | None = Field(default=None, ge=1)
    # NoDecode: the text is "0-3", not JSON; `_shard_ids` reads it.
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None

    # Health and metrics HTTP endpoint; off unless a port is set (0: any free port, logged).
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = Field(default="127.0.0.1")

    @field_validator("database", mode="before")
    @classmethod
    def _database_kind(cls, value: object) -> object:
        # A URL must not become a Path: Path("postgresql://...") folds the "//".
        if is_postgres_url(value):
            return PostgresUrl(str(value) if not isinstance(value, PostgresUrl) else value.dsn())
        return Path(value) if isinstance(value, str) else value

    def answer_options(self) -> dict[str, Any]:
        """The answer service's keyword arguments these settings set (unset ones keep the fit)."""
        options: dict[str, Any] = {"max_suggestions": self.max_suggestions}
        if self.answer_threshold is not None:
            options["answer_threshold"] = self.answer_threshold
        if self.suggestion_threshold is not None:
            options["suggestion_threshold"] = self.suggestion_threshold
        return options

    def shard_plan(self) -> ShardPlan:
        return ShardPlan(self.shard_count, self.shard_ids)

    @field_validator(
        "discord_token",
        "dev_guild_id",
        "moderator_role_id",
        "answer_threshold",
        "suggestion_threshold",
        "shard_count",
        "metrics_port",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # `.env.example` copied as is leaves optional settings blank: blank means "not set".
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            if not value.strip():
                return None
            try:
                return parse_shard_ids(value)
            except ShardSpecError as exc:
                raise _invalid(str(exc)) from None
        return value

    @field_validator("shard_ids")
    @classmethod
    def _shard_ids_fit_count(
        cls, value: tuple[int, ...] | None, info: ValidationInfo
    ) -> tuple[int, ...] | None:
        if value is None:
            return None
        count = info.data.get("shard_count")
        if count is None:
            # A failed BOT_SHARD_COUNT is reported on its own; only its absence is an error here.
            if "shard_count" in info.data:
                raise _invalid("needs BOT_SHARD_COUNT too: the number of shards across all processes")
            return value
        if not value:
            raise _invalid("no shard ids given (expected e.g. '0,1' or '0-3')")
        too_big = [shard for shard in value if shard >= count]
        if too_big or min(value) < 0:
            raise _invalid(
                f"shard ids run from 0 to {count - 1} with BOT_SHARD_COUNT={count}; "
                f"got {format_shard_ids(value)}"
            )
        if len(set(value)) != len(value):
            raise _invalid("a shard is listed twice")
        return tuple(sorted(value))


def _invalid(message: str) -> PydanticCustomError:
    # A custom error's message is shown as written (a ValueError's gets "Value error, " first).
    return PydanticCustomError("invalid_setting", message)


def env_name(field: str) -> str:
    """The environment variable a user sets for a settings field (`answer_threshold` ->
    `BOT_ANSWER_THRESHOLD`), for error messages that name what the user typed."""
    return {"discord_token": "DISCORD_TOKEN", "dev_guild_id": "DEV_GUILD_ID"}.get(
        field, f"BOT_{field.upper()}"
    )
