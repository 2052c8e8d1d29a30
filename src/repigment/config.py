"""Every ``REPIGMENT_*`` environment variable, in one validated settings object.

Read through ``get_settings()``, never at import time: the settings are parsed when first needed and
parsed again only when a ``REPIGMENT_*`` variable changes, so a test (or ``repigment demo``) can set
variables for one server process. A bad value raises ``ConfigError`` naming the variable;
``repigment serve`` and ``repigment demo`` check the settings before anything starts and exit 2 with it.

``docs/configuration.md`` is generated from this class
(``python -m repigment.config > docs/configuration.md``); a test fails when they differ.
"""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, Literal, get_args, get_origin

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PREFIX: Final = "REPIGMENT_"
# The pseudonym key: 32 characters at the least, a 128-bit secret written as hex (``secrets.token_hex(32)``
# gives 64); keys that are public (the built-in default of earlier versions) are refused like a short one.
MIN_KEY_LENGTH: Final = 32
PUBLIC_KEYS: Final = frozenset({"repigment-cohort-pseudonym-v1"})
# Values never repeated in an error message (a database URL may hold a password).
_SECRET: Final = frozenset({"database_url", "pseudonym_key"})
_SCHEMES: Final = (
    "sqlite",
    "sqlite+pysqlite",
    "postgresql",
    "postgres",
    "postgresql+psycopg",
    "postgresql+psycopg2",
)


class ConfigError(ValueError):
    """A ``REPIGMENT_*`` variable has a value the application cannot use; the message names it."""


class Settings(BaseSettings):
    """The application's settings; each field is the variable ``REPIGMENT_<FIELD NAME IN CAPITALS>``."""

    model_config = SettingsConfigDict(
        env_prefix=PREFIX,
        case_sensitive=False,
        env_ignore_empty=True,
        validate_default=True,
        frozen=True,
        extra="ignore",
    )

    database_url: str | None = Field(
        default=None,
        description="Database URL: `sqlite:///PATH` or `postgresql://…`; unset means the embedded SQLite "
        "file `repigment.sqlite3` in the data directory.",
    )
    data_dir: Path = Field(
        default=Path("~/.local/share/repigment"),
        description="Directory for the embedded SQLite database, the demo database and photos.",
    )
    sqlite_synchronous: Literal["FULL", "NORMAL", "EXTRA"] = Field(
        default="FULL",
        description="SQLite `PRAGMA synchronous`: FULL survives power loss; NORMAL is faster and survives "
        "a killed process only.",
    )
    api_only: bool = Field(default=False, description="Serve the REST API without the web pages.")
    demo: bool = Field(
        default=False, description="Demo mode: the demo log-ins are shown (set by `repigment demo`)."
    )
    log_level: Literal["critical", "error", "warning", "info", "debug", "trace"] = Field(
        default="info", description="The server's log level."
    )
    trusted_proxies: str = Field(
        default="",
        description="Reverse proxies whose `X-Forwarded-For`/`-Proto` are believed: IP addresses or "
        "networks, comma-separated; none by default.",
    )
    token_ttl_minutes: int = Field(default=480, gt=0, description="Lifetime of a log-in session, in minutes.")
    login_client_failures: int = Field(
        default=20,
        ge=0,
        description="Failed log-ins from one client address before it is locked out for a while.",
    )
    photo_dir: Path | None = Field(
        default=None, description="Directory for photos; unset means `photos` in the data directory."
    )
    photo_max_bytes: int = Field(default=10 << 20, gt=0, description="Largest photo upload, in bytes.")
    photo_max_pixels: int = Field(
        default=24_000_000,
        gt=0,
        description="Largest photo, in pixels (width × height), checked before decoding.",
    )
    pseudonym_key: str | None = Field(
        default=None,
        description="Secret key of analysts' cohort pseudonyms, at least 32 characters, one per deployment, "
        "kept (changing it changes every pseudonym); start-up refuses without it outside demo mode, where "
        "one is made in `$REPIGMENT_DATA_DIR/demo-pseudonym-key`.",
    )
    icsr_country: str | None = Field(
        default=None,
        description="ISO 3166-1 alpha-2 country of the reporter and sender in ICSR (E2B) exports.",
    )
    pg_bin: Path | None = Field(
        default=None,
        description="Directory of the PostgreSQL client programs (`pg_dump`, `pg_restore`) for backups.",
    )
    chromium: Path = Field(
        default=Path("/usr/bin/chromium"), description="Chromium for `repigment trial` PDF reports."
    )

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, v: str | None) -> str | None:
        if not v:
            return None
        scheme = v.split(":", 1)[0] if "://" in v else ""
        if scheme not in _SCHEMES:
            raise ValueError(
                f"unsupported database URL scheme {scheme!r}: use sqlite:///PATH or postgresql://…"
            )
        return v

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, v: Any) -> Any:
        return v.lower() if isinstance(v, str) else v

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: str) -> str:
        for p in _split(v):
            try:
                ipaddress.ip_network(p, strict=False)
            except ValueError:
                raise ValueError(f"{p!r} is not an IP address or network") from None
        return v

    @field_validator("pseudonym_key")
    @classmethod
    def _secret_key(cls, v: str | None) -> str | None:
        if not v:
            return None
        if v in PUBLIC_KEYS:
            raise ValueError("is a published key: set a secret of your own")
        if len(v) < MIN_KEY_LENGTH:
            raise ValueError(f"must be at least {MIN_KEY_LENGTH} characters (it has {len(v)})")
        return v

    @field_validator("icsr_country")
    @classmethod
    def _country(cls, v: str | None) -> str | None:
        if not v:
            return None
        if not re.fullmatch(r"[A-Za-z]{2}", v):
            raise ValueError(f"{v!r} is not an ISO 3166-1 alpha-2 country code (two letters)")
        return v.upper()

    @field_validator("data_dir", "photo_dir", "pg_bin")
    @classmethod
    def _expand(cls, v: Path | None) -> Path | None:
        return v.expanduser() if v is not None else None

    @property
    def proxies(self) -> list[str]:
        """``trusted_proxies`` as a list."""
        return _split(self.trusted_proxies)

    @property
    def photos(self) -> Path:
        return self.photo_dir or self.data_dir / "photos"


def _split(raw: str) -> list[str]:
    return [p.strip() for p in raw.split(",") if p.strip()]


def env_name(field: str) -> str:
    return PREFIX + field.upper()


def _message(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        msg = str(err["msg"]).removeprefix("Value error, ")
        got = "" if field in _SECRET else f", got {err.get('input')!r}"
        lines.append(f"{env_name(field)}: {msg}{got}")
    return "; ".join(lines)


def _environment() -> tuple[tuple[str, str], ...]:
    return tuple(sorted((k.upper(), v) for k, v in os.environ.items() if k.upper().startswith(PREFIX)))


@functools.lru_cache(maxsize=16)
def _parse(_env: tuple[tuple[str, str], ...]) -> Settings:
    """``_env`` is the cache key; pydantic-settings reads the variables themselves."""
    try:
        return Settings()
    except ValidationError as e:
        raise ConfigError(_message(e)) from None


def get_settings() -> Settings:
    """The settings of the current environment (parsed once per distinct set of ``REPIGMENT_*`` values).

    Raises ``ConfigError`` naming the variable when a value is bad."""
    return _parse(_environment())


# -- docs/configuration.md -----------------------------------------------------------------------------
def _type_text(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in get_args(annotation))
    text = str(annotation).replace("typing.", "").replace("pathlib.", "").replace("NoneType", "None")
    text = re.sub(r"<class '(\w+)'>", r"\1", text)
    text = text.replace("int", "integer").replace("bool", "boolean").replace("str", "text")
    return text.replace("Path", "path").replace(" | None", " (optional)")


def _default_text(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "`1`" if value else "`0`"
    if value == "":
        return "empty"
    return f"`{value}`"


def markdown() -> str:
    lines: list[str] = [
        "# Configuration",
        "",
        "<!-- Generated by `python -m repigment.config > docs/configuration.md`; "
        "a test fails when it differs. -->",
        "",
        "Every setting is an environment variable, read and checked when the server starts "
        "(`repigment serve` and `repigment demo` refuse a bad value with its name and exit 2). "
        "Booleans take `1`/`0`, `true`/`false`, `yes`/`no` or `on`/`off`.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    lines += _rows(Settings.model_fields.items())
    return "\n".join(lines) + "\n"


def _rows(fields: Iterable[tuple[str, Any]]) -> Iterable[str]:
    for name, info in fields:
        meaning = (info.description or "").replace("|", "\\|")
        cells = (f"`{env_name(name)}`", _type_text(info.annotation), _default_text(info.default), meaning)
        yield "| " + " | ".join(cells) + " |"


if __name__ == "__main__":
    print(markdown(), end="")
