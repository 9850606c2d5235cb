"""manifest.yml is what users create the app from: it must be valid for Slack and match the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner, Result

from bot.app.server import EVENTS_PATH
from bot.cli import cli
from bot.cli.manifest import HISTORY_SCOPES

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT.parent / "shared" / "slack" / "manifest-schema" / "schemas"


def load_manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema() -> None:
    manifest = load_manifest()
    major = manifest.get("_metadata", {}).get("major_version", 1)
    schema_path = SCHEMAS / f"manifest.schema.{major}.0.0.json"
    if not schema_path.exists():  # a checkout outside the workspace: use the copy in tests/
        schema_path = ROOT / "tests" / "data" / f"manifest.schema.{major}.0.0.json"
    schema = json.loads(schema_path.read_text())
    jsonschema.validate(manifest, schema)


def _registered(pattern: str) -> set[str]:
    found: set[str] = set()
    # the Slack edge: each capability's handlers and bot/slack's routers
    for path in [*(ROOT / "bot").glob("*/handlers.py"), *(ROOT / "bot" / "slack").glob("*.py")]:
        found |= set(re.findall(pattern, path.read_text()))
    return found


def test_every_slash_command_in_the_manifest_has_a_handler_and_back() -> None:
    in_manifest = {c["command"] for c in load_manifest()["features"]["slash_commands"]}
    assert in_manifest == _registered(r"app\.command\(\s*\"(/[a-z0-9_-]+)\"")


def test_shortcuts_in_the_manifest_have_handlers() -> None:
    in_manifest = {s["callback_id"] for s in load_manifest()["features"].get("shortcuts", [])}
    assert in_manifest <= _registered(r"app\.(?:shortcut|global_shortcut|message_shortcut)\(\s*\"([a-z_]+)\"")


def test_subscribed_events_have_handlers() -> None:
    events = set(load_manifest()["settings"]["event_subscriptions"].get("bot_events") or [])
    assert events <= _registered(r"app\.event\(\s*\"([a-z_]+)\"")


# -- `throughline manifest`: the same manifest, for Socket Mode or HTTP mode -----------------------

HOST = "https://throughline.example.com"


def slack_schema() -> dict:
    schema_path = SCHEMAS / "manifest.schema.1.0.0.json"
    if not schema_path.exists():
        schema_path = ROOT / "tests" / "data" / "manifest.schema.1.0.0.json"
    return json.loads(schema_path.read_text())


def manifest_command(*args: str) -> Result:
    return CliRunner().invoke(cli, ["manifest", *args], obj={}, env={"THROUGHLINE_CONFIG": None})


def test_the_manifest_shipped_in_the_package_is_the_one_users_paste() -> None:
    assert (ROOT / "bot" / "cli" / "manifest.yml").read_bytes() == (ROOT / "manifest.yml").read_bytes()


def test_manifest_without_options_prints_the_file_as_it_is() -> None:
    result = manifest_command()
    assert result.exit_code == 0
    assert result.stdout == (ROOT / "manifest.yml").read_text()


@pytest.mark.parametrize(
    "args",
    [
        ["--http", HOST],
        ["--http", HOST + "/", "--oauth"],
        ["--http", HOST, "--minimal"],
        ["--http", "https://throughline.example.com:8443", "--oauth", "--minimal"],
        ["--minimal"],
    ],
)
def test_every_manifest_it_prints_is_valid_for_slack(args: list[str]) -> None:
    result = manifest_command(*args)
    assert result.exit_code == 0, result.output
    jsonschema.validate(yaml.safe_load(result.stdout), slack_schema())


def test_the_http_manifest_sends_every_request_to_slack_events_and_turns_socket_mode_off() -> None:
    result = manifest_command("--http", HOST)
    manifest = yaml.safe_load(result.stdout)
    url = HOST + EVENTS_PATH
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["event_subscriptions"]["request_url"] == url
    assert settings["interactivity"] == {
        "is_enabled": True,
        "request_url": url,
        "message_menu_options_url": url,  # the external selects load their options here
    }
    assert [c["url"] for c in manifest["features"]["slash_commands"]] == [url] * 4
    assert "redirect_urls" not in manifest["oauth_config"]
    # everything else is the file users paste for Socket Mode
    pasted = load_manifest()
    assert manifest["features"]["shortcuts"] == pasted["features"]["shortcuts"]
    assert manifest["oauth_config"]["scopes"] == pasted["oauth_config"]["scopes"]
    events = settings["event_subscriptions"]["bot_events"]
    assert events == pasted["settings"]["event_subscriptions"]["bot_events"]


def test_with_oauth_the_http_manifest_has_the_redirect_url() -> None:
    manifest = yaml.safe_load(manifest_command("--http", HOST + "/", "--oauth").stdout)
    assert manifest["oauth_config"]["redirect_urls"] == [HOST + "/slack/oauth_redirect"]
    # distributed: told of uninstalls and revoked tokens, installable org-wide in Enterprise Grid
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert {"app_uninstalled", "tokens_revoked", "team_access_granted", "team_access_revoked"} <= set(events)
    assert manifest["settings"]["org_deploy_enabled"] is True
    assert set(events) <= _registered(r"app\.event\(\s*\"([a-z_]+)\"")


def test_minimal_leaves_out_only_the_history_scopes() -> None:
    scopes = load_manifest()["oauth_config"]["scopes"]["bot"]
    assert set(HISTORY_SCOPES) <= set(scopes)
    for args in (["--minimal"], ["--http", HOST, "--minimal"]):
        minimal = yaml.safe_load(manifest_command(*args).stdout)["oauth_config"]["scopes"]["bot"]
        assert minimal == [s for s in scopes if s not in HISTORY_SCOPES]


def test_every_scope_the_manifest_asks_for_is_explained_in_docs_scopes() -> None:
    text = (ROOT / "docs" / "scopes.md").read_text()
    for scope in load_manifest()["oauth_config"]["scopes"]["bot"]:
        assert f"`{scope}`" in text, scope


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("http://throughline.example.com", "should start with https://"),
        ("throughline.example.com", "should start with https://"),
        ("https://throughline.example.com/slack/events", "has a path"),
        ("https://throughline.example.com/?x=1", "has a path"),
        ("https://", "names no host"),
        ("https://bad host.example.com", "names no host"),
        ("https://throughline.example.com:99999", "has a port"),
        ("https://me:pw@throughline.example.com", "has a user name"),
    ],
)
def test_a_bad_http_url_is_one_line_and_exit_2(value: str, reason: str) -> None:
    result = manifest_command("--http", value)
    assert result.exit_code == 2
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"throughline: error: --http: {value!r} {reason}"), line


def test_oauth_without_http_is_one_line_and_exit_2() -> None:
    result = manifest_command("--oauth")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "throughline: error: --oauth needs --http https://HOST: the redirect URL is on your public host"
    ]
