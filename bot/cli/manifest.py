"""`throughline manifest`: the Slack app manifest to create the app from, for Socket Mode (the file
as shipped) or for HTTP mode at a given host (every request URL filled in, Socket Mode off)."""

from __future__ import annotations

import re
import urllib.parse
from importlib import resources
from typing import Any

import click
import yaml

from bot.cli.command import fail

EVENTS_PATH = "/slack/events"  # bot.app.server.EVENTS_PATH; kept here so the CLI does not load the app
OAUTH_REDIRECT_PATH = "/slack/oauth_redirect"
ORG_EVENTS = ["team_access_granted", "team_access_revoked"]
# Requested only so that, after a crash between Slack accepting a message and the outbox marking it
# sent, the deliverer can look for it in the conversation before sending it again (docs/scopes.md).
HISTORY_SCOPES = ("im:history", "channels:history", "groups:history")
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$")


def manifest_text() -> str:
    """manifest.yml as shipped in the package (the same file as the repository's manifest.yml)."""
    return resources.files("bot.cli").joinpath("manifest.yml").read_text(encoding="utf-8")


def base_url(value: str) -> str:
    """`https://host[:port]` from what the user typed; raises ValueError with the reason."""
    text = value.strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme.lower() != "https":
        raise ValueError(f"{value!r} should start with https:// (Slack sends requests only to HTTPS URLs)")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            f"{value!r} has a path; give only the host, e.g. https://throughline.example.com "
            f"({EVENTS_PATH} is added)"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{value!r} has a user name in it; give only the host")
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{value!r} has a port that is not a number from 1 to 65535") from None
    if not _HOST.match(host):
        raise ValueError(f"{value!r} names no host; give one, e.g. https://throughline.example.com")
    return f"https://{host}" + (f":{port}" if port is not None and port != 443 else "")


def build(http: str | None = None, *, oauth: bool = False, minimal: bool = False) -> dict[str, Any]:
    """The manifest as data: Socket Mode, or HTTP mode at `http` (a base URL from `base_url`)."""
    data: dict[str, Any] = yaml.safe_load(manifest_text())
    if minimal:
        bot = data["oauth_config"]["scopes"]["bot"]
        data["oauth_config"]["scopes"]["bot"] = [scope for scope in bot if scope not in HISTORY_SCOPES]
    if http is not None:
        url = http + EVENTS_PATH
        settings = data["settings"]
        settings["socket_mode_enabled"] = False
        settings["event_subscriptions"]["request_url"] = url
        # the external selects (dependency provider, check-in blockers) load their options from here
        settings["interactivity"].update(request_url=url, message_menu_options_url=url)
        for command in data["features"]["slash_commands"]:
            command["url"] = url
        if oauth:
            data["oauth_config"]["redirect_urls"] = [http + OAUTH_REDIRECT_PATH]
            # installable org-wide in an Enterprise Grid org, told which workspaces it may serve
            settings["org_deploy_enabled"] = True
            settings["event_subscriptions"]["bot_events"] += ORG_EVENTS
    return data


def render(http: str | None = None, *, oauth: bool = False, minimal: bool = False) -> str:
    if http is None and not minimal:
        return manifest_text()
    mode = f"HTTP mode (`throughline serve`) at {http}" if http else "Socket Mode (`throughline run`)"
    flags = " ".join(
        flag
        for flag, given in ((f"--http {http}", http), ("--oauth", oauth), ("--minimal", minimal))
        if given
    )
    header = [
        "# Create the Slack app from this file: api.slack.com/apps -> Create New App -> From a manifest.",
        f"# For {mode};",
        f"# printed by `throughline manifest {flags}`.",
    ]
    if minimal:
        header.append("# Without the history scopes: see docs/scopes.md for what crash recovery does then.")
    body = yaml.safe_dump(
        build(http, oauth=oauth, minimal=minimal), sort_keys=False, allow_unicode=True, width=100
    )
    return "\n".join(header) + "\n" + body


@click.command()
@click.option(
    "--http",
    "http",
    metavar="https://HOST",
    default=None,
    help="For HTTP mode (`throughline serve`) at this public URL: request URLs filled in, Socket Mode off.",
)
@click.option(
    "--oauth",
    is_flag=True,
    help=f"With --http: add the OAuth redirect URL (https://HOST{OAUTH_REDIRECT_PATH}).",
)
@click.option(
    "--minimal",
    is_flag=True,
    help="Leave out the history scopes (" + ", ".join(HISTORY_SCOPES) + "), which only crash recovery "
    "uses; see docs/scopes.md.",
)
def manifest(http: str | None, oauth: bool, minimal: bool) -> None:
    """Print the Slack app manifest to create the app from (Socket Mode unless --http)."""
    if oauth and http is None:
        fail("--oauth needs --http https://HOST: the redirect URL is on your public host")
    try:
        url = base_url(http) if http is not None else None
    except ValueError as exc:
        fail(f"--http: {exc}")
    click.echo(render(url, oauth=oauth, minimal=minimal), nl=False)
