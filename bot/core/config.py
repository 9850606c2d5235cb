"""Configuration, from the environment and an optional TOML file (environment wins).

Two layers:
- `WorkspaceSettings`: how the bot behaves in a workspace (channels, cadence, thresholds...).
  The values here are every workspace's defaults; an admin can override them from the App Home,
  and the overrides are validated by the same model.
- `Settings`: the process (Slack credentials, database, server), plus those defaults.

A bad value stops the program with one line naming the setting (`ConfigError`).
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.core import urlpattern
from bot.core.calendar import Cadence, WorkCalendar, check_holidays, check_zone
from bot.core.distribution import DistributionSettings
from bot.core.integrations import TrackerSettings

ENV_PREFIX = "THROUGHLINE_"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
DEFAULT_SLACK_API_URL = "https://slack.com/api/"
log = logging.getLogger(__name__)
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line, naming it and the fix."""


def _split_list(value: Any) -> Any:
    """Accept `U1,U2`, `U1 U2` or a JSON/TOML list."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part for part in re.split(r"[\s,]+", text) if part]
    return value


def _parse_mapping(value: Any) -> Any:
    """Accept `Platform=U1,Data=U2` or a JSON/TOML table."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            import json

            return json.loads(text)
        result: dict[str, str] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, sep, lead = part.partition("=")
            if not sep:
                raise ValueError(f"{part!r} should be Team=UserID")
            result[name.strip()] = lead.strip()
        return result
    return value


UserIds = Annotated[list[str], NoDecode]
Patterns = Annotated[list[str], NoDecode]
Teams = Annotated[dict[str, str], NoDecode]


class WorkspaceSettings(BaseModel):
    """How Throughline behaves in one workspace. Every field has a THROUGHLINE_<NAME> variable."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    triage_channel: str | None = Field(None, description="Channel ID where new requests are triaged.")
    governance_channel: str | None = Field(None, description="Channel ID for level-3 escalations.")
    digest_channel: str | None = Field(None, description="Channel ID for the weekly leadership digest.")
    timezone: str = Field("UTC", description="The workspace's IANA time zone (digest, fallback for owners).")
    default_cadence: str = Field("weekly:mon@09:00", description="Check-in cadence for new initiatives.")
    reminder_after_hours: int = Field(24, ge=1, le=240, description="Working hours before a reminder.")
    holidays: str = Field("", description="Public-holiday calendar: country[-region], e.g. DE-BE, US-CA.")
    digest_schedule: str = Field("weekly:fri@16:00", description="When the digest is posted.")
    triage_leads: UserIds = Field(default_factory=list, description="User IDs who may accept/decline.")
    admins: UserIds = Field(default_factory=list, description="User IDs who may change settings.")
    governance_members: UserIds = Field(default_factory=list, description="User IDs who handle escalations.")
    teams: Teams = Field(default_factory=dict, description="Team name -> lead's user ID.")
    okr_url_patterns: Patterns = Field(default_factory=list, description="Allowed OKR-tool URL patterns.")
    key_prefix: str = Field("REQ", pattern=r"^[A-Z]{2,8}$", description="Prefix of request keys.")
    stall_blocked_days: int = Field(3, ge=1, le=60, description="Business days blocked/at risk = stall.")
    stall_missed_checkins: int = Field(2, ge=1, le=20, description="Missed check-ins in a row = stall.")
    stall_silent_periods: int = Field(2, ge=1, le=20, description="Cadence periods without check-in = stall.")
    tracker_backlinks: bool = Field(
        False,
        description="Comment on linked Jira/GitHub items when an initiative is accepted or changes health.",
    )
    stall_tracker_statuses: Patterns = Field(
        default_factory=lambda: ["Blocked", "On Hold", "Impeded"],
        description="Linked Jira statuses that count as blocked (any case), like a blocked health.",
    )
    escalate_level2_days: int = Field(2, ge=1, le=60, description="Business days at level 1 before level 2.")
    escalate_level3_days: int = Field(5, ge=1, le=60, description="Business days from stall to level 3.")

    @field_validator("triage_channel", "governance_channel", "digest_channel", mode="before")
    @classmethod
    def _channel_id(cls, value: Any) -> Any:
        if value in (None, ""):
            return None
        text = str(value).strip()
        if not _CHANNEL_ID.match(text):
            raise ValueError(
                f"{text!r} is not a channel ID; open the channel's details in Slack and copy the ID "
                "at the bottom (it starts with C)"
            )
        return text

    @field_validator("triage_leads", "admins", "governance_members", mode="before")
    @classmethod
    def _user_ids(cls, value: Any) -> Any:
        value = _split_list(value)
        for item in value or []:
            if not _USER_ID.match(str(item)):
                raise ValueError(
                    f"{item!r} is not a Slack user ID; copy it from the person's profile "
                    "(⋮ → Copy member ID, it starts with U)"
                )
        return value

    @field_validator("teams", mode="before")
    @classmethod
    def _teams(cls, value: Any) -> Any:
        value = _parse_mapping(value)
        for name, lead in (value or {}).items():
            if not str(name).strip():
                raise ValueError("a team needs a name")
            if not _USER_ID.match(str(lead)):
                raise ValueError(f"lead of team {name!r}: {lead!r} is not a Slack user ID")
        return value

    @field_validator("stall_tracker_statuses", mode="before")
    @classmethod
    def _statuses(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("okr_url_patterns", mode="before")
    @classmethod
    def _patterns(cls, value: Any) -> Any:
        value = _split_list(value)
        for item in value or []:
            urlpattern.compile_pattern(str(item))  # PatternError is a ValueError with the reason
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: str) -> str:
        return check_holidays(value.strip())

    @field_validator("default_cadence", "digest_schedule")
    @classmethod
    def _cadence(cls, value: str) -> str:
        return str(Cadence.parse(value))

    def cadence(self) -> Cadence:
        return Cadence.parse(self.default_cadence)

    def digest_cadence(self) -> Cadence:
        return Cadence.parse(self.digest_schedule)

    def calendar(self) -> WorkCalendar:
        """Working days: weekends and the configured public holidays are closed."""
        return WorkCalendar(self.holidays)

    def okr_url_allowed(self, url: str) -> bool:
        """Is `url` in one of the OKR tools (`core.urlpattern`: scheme, host and path compared as parts)?"""
        return urlpattern.matches_any(self.okr_url_patterns, url)

    def with_overrides(self, overrides: Mapping[str, Any]) -> WorkspaceSettings:
        """These settings with a workspace's stored overrides on top (validated)."""
        data = self.model_dump()
        data.update({k: v for k, v in overrides.items() if k in type(self).model_fields})
        return type(self).model_validate(data)


_config_file: ContextVar[Path | None] = ContextVar("throughline_config_file", default=None)


class Settings(WorkspaceSettings, TrackerSettings, DistributionSettings, BaseSettings):
    """The process's settings. Slack and database variables have their usual names; the rest are
    THROUGHLINE_<NAME>. A TOML file (THROUGHLINE_CONFIG, or ./throughline.toml) can hold any of
    them by field name; the environment wins over the file. The trackers' settings are in
    bot.core.integrations, the OAuth install's in bot.core.distribution."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        extra="ignore",
        validate_default=True,
        populate_by_name=True,
    )

    slack_bot_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_BOT_TOKEN", "slack_bot_token")
    )
    slack_app_token: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_APP_TOKEN", "slack_app_token")
    )
    slack_signing_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "slack_signing_secret")
    )
    slack_api_url: str = Field(
        DEFAULT_SLACK_API_URL, validation_alias=AliasChoices("SLACK_API_URL", "slack_api_url")
    )
    database_url: str = Field(
        "sqlite:///throughline.db", validation_alias=AliasChoices("DATABASE_URL", "database_url")
    )
    migrate_on_start: bool = Field(True, description="Upgrade the database schema when run/serve start.")
    migration_lock_timeout: float = Field(
        5.0,
        gt=0,
        le=600,
        description="PostgreSQL: seconds a migration step waits for a table lock before the upgrade "
        "stops at the last revision applied (while it waits, the table's other users wait behind it).",
    )
    migration_statement_timeout: float = Field(
        60.0,
        gt=0,
        le=86400,
        description="PostgreSQL: seconds one migration statement may run (index builds excepted).",
    )
    host: str = Field("0.0.0.0", description="Address `throughline serve` listens on.")  # noqa: S104
    port: int = Field(3000, ge=1, le=65535, description="Port `throughline serve` listens on.")
    server_threads: int = Field(8, ge=1, le=256, description="HTTP worker threads for `serve`.")
    tick_seconds: int = Field(60, ge=1, le=3600, description="How often the scheduler runs a tick.")
    slack_post_rate: float = Field(
        5.0,
        gt=0,
        le=1000,
        description="Messages a second the bot sends on its own, per process (Slack allows a workspace "
        "several hundred a minute); a 429 pauses it for Retry-After anyway.",
    )
    slack_post_burst: int = Field(
        20, ge=1, le=1000, description="Messages sent at once before pacing starts."
    )
    delivery_lease_seconds: int = Field(
        120,
        ge=2,
        le=3600,
        description="How long a deliverer holds a claimed message before others may take it.",
    )
    delivery_max_attempts: int = Field(
        8,
        ge=1,
        le=100,
        description="Attempts at a message Slack refuses with an error not known to pass "
        "(missing_scope, edit_window_closed, ...) before it is parked and the admins are told.",
    )
    outbox_retention_days: int = Field(
        30,
        ge=1,
        le=3650,
        description="Days a sent message is kept in the outbox before the tick prunes it.",
    )
    template_dir: Path | None = Field(None, description="Directory overriding the digest templates.")
    log_level: str = Field("INFO", description="DEBUG, INFO, WARNING or ERROR (any case).")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources = [init_settings, env_settings]
        path = _config_file.get()
        if path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @model_validator(mode="after")
    def _ladder_in_order(self) -> Settings:
        # only at load: the App Home form checks a workspace's own overrides with its own message
        if self.escalate_level3_days <= self.escalate_level2_days:
            raise ValueError(
                f"{setting_name('escalate_level3_days')} ({self.escalate_level3_days}) must be more than "
                f"{setting_name('escalate_level2_days')} ({self.escalate_level2_days}): level 3 comes "
                "after level 2 (both count business days from the stall)"
            )
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, value: Any) -> Any:
        text = str(value).strip().upper()
        if text not in LOG_LEVELS:
            raise ValueError(f"{value!r} is not a log level; use DEBUG, INFO, WARNING or ERROR")
        return text

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("should be the bot token from OAuth & Permissions (it starts with xoxb-)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith("xapp-"):
            raise ValueError(
                "should be an app-level token with connections:write from Basic Information "
                "(it starts with xapp-)"
            )
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("should be a URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(
                "is not a database URL; use sqlite:///throughline.db or "
                "postgresql+psycopg://user:password@host:5432/dbname"
            ) from exc
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise ValueError(f"{url.get_backend_name()} is not supported; use sqlite or postgresql")
        if url.get_backend_name() == "sqlite" and url.host:
            # sqlite://name.db reads "name.db" as a host and opens an in-memory database
            raise ValueError(
                f"{value!r} names no file (two slashes make {url.host!r} a host); use "
                f"sqlite:///{url.host} for a file here, or sqlite:////abs/path.db"
            )
        if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg2", "default"):
            if url.get_driver_name() == "psycopg2":
                log.warning("DATABASE_URL: psycopg2 is not installed with Throughline; using psycopg 3")
            url = url.set(drivername="postgresql+psycopg")
            return url.render_as_string(hide_password=False)
        return value

    def workspace_defaults(self) -> WorkspaceSettings:
        return WorkspaceSettings.model_validate(self.model_dump(include=set(WorkspaceSettings.model_fields)))

    def require(self, *names: str, why: str) -> None:
        """Stop with a ConfigError if a needed Slack credential is not set."""
        for name in names:
            if getattr(self, name) is None:
                raise ConfigError(f"{setting_name(name)} is not set: {why}. {_HOW_TO_GET[name]}")


_HOW_TO_GET = {
    "slack_bot_token": "Copy the Bot User OAuth Token (xoxb-…) from OAuth & Permissions "
    "and export SLACK_BOT_TOKEN.",
    "slack_app_token": "Create an app-level token with connections:write under Basic Information and "
    "export SLACK_APP_TOKEN=xapp-….",
    "slack_signing_secret": "Copy the Signing Secret from Basic Information and export SLACK_SIGNING_SECRET.",
}

_ALIASES = {
    "slack_bot_token": "SLACK_BOT_TOKEN",
    "slack_app_token": "SLACK_APP_TOKEN",
    "slack_signing_secret": "SLACK_SIGNING_SECRET",
    "slack_api_url": "SLACK_API_URL",
    "slack_client_id": "SLACK_CLIENT_ID",
    "slack_client_secret": "SLACK_CLIENT_SECRET",
    "slack_redirect_uri": "SLACK_REDIRECT_URI",
    "database_url": "DATABASE_URL",
}


def setting_name(field: str) -> str:
    """The environment variable a field is set by."""
    key = field.lower()
    return _ALIASES.get(key, ENV_PREFIX + key.upper())


def describe_validation_error(error: ValidationError) -> str:
    """One line per bad setting: `THROUGHLINE_TIMEZONE: 'Mars/Base' is not an IANA time zone ...`."""
    lines = []
    for item in error.errors():
        message = item["msg"].removeprefix("Value error, ")
        if not item["loc"]:  # a rule across settings names them itself
            lines.append(message)
            continue
        field = str(item["loc"][0])
        value = item.get("input")
        if item["type"] in (
            "int_parsing",
            "bool_parsing",
            "string_pattern_mismatch",
            "greater_than_equal",
            "less_than_equal",
            "extra_forbidden",
        ):
            message = f"{value!r}: {message}"
        lines.append(f"{setting_name(field)}: {message}")
    return "\n".join(lines)


def load_settings(config_file: str | os.PathLike[str] | None = None, **overrides: Any) -> Settings:
    """Settings from the environment and the config file; raises ConfigError with a clear line."""
    path = config_file or os.environ.get(ENV_PREFIX + "CONFIG")
    if path is None and Path("throughline.toml").is_file():
        path = "throughline.toml"
    if path is not None and not Path(path).is_file():
        raise ConfigError(
            f"{ENV_PREFIX}CONFIG: {str(path)!r} does not exist; point it at your throughline.toml"
        )
    if path is not None:
        _check_file_keys(Path(path))
    token = _config_file.set(Path(path) if path else None)
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
    except ValueError as exc:  # a TOML syntax error or JSON in an env var
        where = f"{path}" if path else "the environment"
        raise ConfigError(f"could not read settings from {where}: {exc}") from None
    finally:
        _config_file.reset(token)


def _check_file_keys(path: Path) -> None:
    """A key the settings do not know is a typo that would be ignored in silence: name it."""
    try:
        keys = tomllib.loads(path.read_text(encoding="utf-8")).keys()
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return  # reading the file properly reports it
    known = set(Settings.model_fields)
    for key in keys:
        if key.lower() in known:
            continue
        close = difflib.get_close_matches(key.lower(), known, n=1)
        hint = f"did you mean {close[0]}?" if close else "see throughline.toml.example"
        raise ConfigError(f"{path}: {key} is not a setting; {hint}")
