"""`BOT_DATABASE` as a PostgreSQL URL, kept whole for the driver and redacted everywhere else.

`PostgresUrl` prints (str, repr, f-strings, logs, error messages) without its password;
only `dsn()` gives the full URL, and only the driver is handed it.
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema

SCHEMES: Final = ("postgresql", "postgres")
_MASK: Final = "***"


def is_postgres_url(value: object) -> bool:
    return isinstance(value, PostgresUrl) or (
        isinstance(value, str) and value.strip().split("://", 1)[0].lower() in SCHEMES and "://" in value
    )


def redact(url: str) -> str:
    """The URL with any password (in the user part or a `password=` parameter) masked."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, host = netloc.rsplit("@", 1)
            if ":" in userinfo:
                user, password = userinfo.split(":", 1)
                userinfo = f"{user}:{_MASK}" if password else f"{user}:"
            netloc = f"{userinfo}@{host}"
        query = parts.query
        if query:
            pairs = parse_qsl(query, keep_blank_values=True)
            query = urlencode([(k, _MASK if k.lower() == "password" else v) for k, v in pairs], safe="/")
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return f"{url.split('://', 1)[0]}://{_MASK}"


class PostgresUrl:
    """A PostgreSQL connection URL whose text form never shows the password."""

    __slots__ = ("_dsn",)

    def __init__(self, url: str) -> None:
        url = url.strip()
        if not is_postgres_url(url):
            raise ValueError("a PostgreSQL URL starts with postgresql://")
        self._dsn = url

    def dsn(self) -> str:
        """The full URL, password included: for the driver only."""
        return self._dsn

    def __str__(self) -> str:
        return redact(self._dsn)

    def __repr__(self) -> str:
        return f"PostgresUrl({redact(self._dsn)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PostgresUrl) and other._dsn == self._dsn

    def __hash__(self) -> int:
        return hash(self._dsn)

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            lambda v: v if isinstance(v, cls) else cls(str(v)),
            serialization=core_schema.plain_serializer_function_ser_schema(str),
        )
