"""Settings: every bad value stops the program with one line naming the setting and the fix."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.config import ConfigError, Settings, WorkspaceSettings, load_settings


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no ./throughline.toml from the developer's checkout
    return monkeypatch


def test_defaults_are_the_embedded_setup(env) -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite:///throughline.db"
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.default_cadence == "weekly:mon@09:00"
    assert settings.digest_schedule == "weekly:fri@16:00"
    assert (settings.stall_blocked_days, settings.escalate_level2_days, settings.escalate_level3_days) == (
        3,
        2,
        5,
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "THROUGHLINE_TIMEZONE",
            "Mars/Olympus",
            "THROUGHLINE_TIMEZONE: 'Mars/Olympus' is not an IANA time zone",
        ),
        (
            "THROUGHLINE_TRIAGE_CHANNEL",
            "#triage",
            "THROUGHLINE_TRIAGE_CHANNEL: '#triage' is not a channel ID",
        ),
        (
            "THROUGHLINE_DEFAULT_CADENCE",
            "sometimes",
            "THROUGHLINE_DEFAULT_CADENCE: 'sometimes' is not a cadence",
        ),
        ("THROUGHLINE_HOLIDAYS", "XX", "THROUGHLINE_HOLIDAYS: 'XX' is not a holiday calendar"),
        ("THROUGHLINE_STALL_BLOCKED_DAYS", "three", "THROUGHLINE_STALL_BLOCKED_DAYS: 'three'"),
        ("THROUGHLINE_ADMINS", "alice", "THROUGHLINE_ADMINS: 'alice' is not a Slack user ID"),
        ("THROUGHLINE_TEAMS", "Platform", "THROUGHLINE_TEAMS: 'Platform' should be Team=UserID"),
        ("SLACK_BOT_TOKEN", "xoxp-user-token", "SLACK_BOT_TOKEN: should be the bot token"),
        ("SLACK_APP_TOKEN", "xoxb-wrong", "SLACK_APP_TOKEN: should be an app-level token"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: mysql is not supported"),
        (
            "THROUGHLINE_PORT",
            "99999",
            "THROUGHLINE_PORT: '99999': Input should be less than or equal to 65535",
        ),
    ],
)
def test_a_bad_value_gives_one_line_naming_the_setting(env, variable: str, value: str, expected: str) -> None:
    env.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith(expected)
    assert "\n" not in message


def test_lists_and_teams_accept_friendly_forms(env) -> None:
    env.setenv("THROUGHLINE_TRIAGE_LEADS", "U0LEAD, U0ALICE")
    env.setenv("THROUGHLINE_TEAMS", "Platform=U0LEAD,Data Science=U0DAN")
    env.setenv("THROUGHLINE_OKR_URL_PATTERNS", "https://okr.example.com/*")
    settings = load_settings()
    assert settings.triage_leads == ["U0LEAD", "U0ALICE"]
    assert settings.teams == {"Platform": "U0LEAD", "Data Science": "U0DAN"}
    assert settings.okr_url_allowed("https://okr.example.com/o/1")
    assert not settings.okr_url_allowed("https://evil.example.net/okr.example.com/")


def test_config_file_is_read_and_the_environment_wins(env, tmp_path) -> None:
    path = tmp_path / "throughline.toml"
    path.write_text('timezone = "Asia/Kolkata"\ntriage_channel = "C0TRIAGE"\n[teams]\nPlatform = "U0LEAD"\n')
    env.setenv("THROUGHLINE_CONFIG", str(path))
    env.setenv("THROUGHLINE_TRIAGE_CHANNEL", "C0OTHER")
    settings = load_settings()
    assert settings.timezone == "Asia/Kolkata"
    assert settings.triage_channel == "C0OTHER"
    assert settings.teams == {"Platform": "U0LEAD"}


def test_missing_config_file_and_broken_toml_are_one_line(env, tmp_path) -> None:
    env.setenv("THROUGHLINE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="THROUGHLINE_CONFIG: .* does not exist"):
        load_settings()
    broken = tmp_path / "broken.toml"
    broken.write_text("timezone = \n")
    env.setenv("THROUGHLINE_CONFIG", str(broken))
    with pytest.raises(ConfigError, match="could not read settings"):
        load_settings()


def test_requiring_a_credential_names_it_and_says_where_to_get_it() -> None:
    settings = Settings(slack_bot_token=None)
    with pytest.raises(ConfigError, match=r"^SLACK_APP_TOKEN is not set: Socket Mode .*=xapp-"):
        settings.require("slack_app_token", why="Socket Mode needs an app-level token")


def test_workspace_overrides_are_validated_like_the_config() -> None:
    defaults = WorkspaceSettings()
    assert defaults.with_overrides({"timezone": "Europe/Berlin"}).timezone == "Europe/Berlin"
    with pytest.raises(ValueError, match="IANA"):
        defaults.with_overrides({"timezone": "Nowhere/Land"})


@given(st.text(max_size=30))
def test_any_timezone_text_is_accepted_or_refused_cleanly(text: str) -> None:
    try:
        WorkspaceSettings(timezone=text)
    except ValueError:
        pass


def test_the_log_level_is_accepted_in_any_case_and_a_wrong_one_names_the_choices(env) -> None:
    env.setenv("THROUGHLINE_LOG_LEVEL", "debug")
    assert load_settings().log_level == "DEBUG"
    env.setenv("THROUGHLINE_LOG_LEVEL", "loud")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        "THROUGHLINE_LOG_LEVEL: 'loud' is not a log level; use DEBUG, INFO, WARNING or ERROR"
    )


def test_an_unknown_key_in_the_config_file_is_named_with_the_close_one(env, tmp_path) -> None:
    path = tmp_path / "throughline.toml"
    path.write_text('triage_chanel = "C0TRIAGE"\n')
    env.setenv("THROUGHLINE_CONFIG", str(path))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (f"{path}: triage_chanel is not a setting; did you mean triage_channel?")
    path.write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match=r": colour is not a setting; see throughline.toml.example$"):
        load_settings()


def test_a_sqlite_url_with_two_slashes_says_how_to_name_a_file(env) -> None:
    env.setenv("DATABASE_URL", "sqlite://relative.db")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert message.startswith("DATABASE_URL: 'sqlite://relative.db' names no file")
    assert "sqlite:///relative.db" in message
    assert "\n" not in message


def test_a_psycopg2_url_is_served_by_psycopg_3_and_says_so(env, caplog) -> None:
    env.setenv("DATABASE_URL", "postgresql+psycopg2://u@db/x")
    with caplog.at_level("WARNING", logger="bot.core.config"):
        settings = load_settings()
    assert settings.database_url == "postgresql+psycopg://u@db/x"
    assert "psycopg2 is not installed with Throughline; using psycopg 3" in caplog.text


def test_the_example_config_names_every_setting_and_its_defaults_load(env, tmp_path) -> None:
    from pathlib import Path

    example = (Path(__file__).resolve().parents[1] / "throughline.toml.example").read_text()
    settings_lines = [line[2:] for line in example.splitlines() if re.match(r"# [a-z0-9_]+ = ", line)]
    assert {line.split(" = ")[0] for line in settings_lines} == set(Settings.model_fields)
    path = tmp_path / "throughline.toml"
    path.write_text("\n".join(line for line in settings_lines if not line.endswith('= ""')) + "\n")
    env.setenv("THROUGHLINE_CONFIG", str(path))
    assert load_settings() == Settings()


def test_level_2_at_or_after_level_3_is_refused_at_load(env) -> None:
    env.setenv("THROUGHLINE_ESCALATE_LEVEL2_DAYS", "6")
    env.setenv("THROUGHLINE_ESCALATE_LEVEL3_DAYS", "4")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        "THROUGHLINE_ESCALATE_LEVEL3_DAYS (4) must be more than THROUGHLINE_ESCALATE_LEVEL2_DAYS (6): "
        "level 3 comes after level 2 (both count business days from the stall)"
    )
    env.setenv("THROUGHLINE_ESCALATE_LEVEL3_DAYS", "6")
    with pytest.raises(ConfigError, match="must be more than"):
        load_settings()


def test_saved_overrides_still_validate_on_the_defaults() -> None:
    # a workspace's overrides are checked by the App Home form; applying them must not raise
    defaults = load_settings().workspace_defaults()
    assert (
        defaults.with_overrides({"escalate_level2_days": 3, "escalate_level3_days": 8}).escalate_level3_days
        == 8
    )
