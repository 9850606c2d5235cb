"""OAuth install in HTTP mode: `GET /slack/install` (an "Add to Slack" page) and
`GET /slack/oauth_redirect` (Slack sends the browser back here), with bolt's OAuthFlow and
slack_sdk's stores on our database (bot/core/installs.py), and pages that say plainly what happened.

Every request bolt handles is authorized by `InstallAuthorize`, the same authorize function the
delivery worker, the tick and the CLI use: the installation of the request's workspace (or of its
Enterprise Grid org), its token refreshed before it expires."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from jinja2 import Environment, FileSystemLoader, select_autoescape
from slack_bolt import BoltResponse
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.authorize import Authorize
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_bolt.request import BoltRequest

from bot.core.config import Settings
from bot.core.installs import STATE_SECONDS, NotInstalled, OAuthInstalls

log = logging.getLogger(__name__)
INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
_PAGES = Environment(
    loader=FileSystemLoader(str(Path(__file__).resolve().parent / "templates")),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

# what each of bolt's failure reasons means to the person installing, and what to do
FAILURES = {
    "access_denied": "The install was cancelled in Slack, so nothing was installed. To install "
    "Throughline, start again and choose Allow.",
    "invalid_browser": "This install was started in another browser, or the browser did not keep "
    "its cookie, so it could not be confirmed as yours. Start again in this browser.",
    "invalid_state": "This install link has expired or was not issued by this Throughline (a link "
    f"lasts {STATE_SECONDS // 60} minutes and works once). Start again from the install page.",
    "missing_code": "Slack did not send an install code back, so nothing was installed. Start again.",
    "invalid_code": "Slack refused the install code (it may have been used already), so nothing "
    "was installed. Start again.",
    "storage_error": "Slack approved the install but Throughline could not save it. Try again in a "
    "minute; if it keeps failing, the operator should check the database.",
}


def bot_scopes() -> list[str]:
    """The bot scopes the app asks for: the shipped manifest's."""
    text = resources.files("bot.cli").joinpath("manifest.yml").read_text(encoding="utf-8")
    return list(yaml.safe_load(text)["oauth_config"]["scopes"]["bot"])


def authorization_url(api_url: str) -> str:
    """Slack's authorize page next to its Web API (https://slack.com/oauth/v2/authorize), or the
    local Slack's."""
    base = api_url.rstrip("/").removesuffix("/api")
    return base + "/oauth/v2/authorize"


def page(kind: str, title: str, status: int, **values: Any) -> BoltResponse:
    html = _PAGES.get_template("install.html.j2").render(kind=kind, title=title, **values)
    return BoltResponse(status=status, body=html, headers={"Content-Type": "text/html; charset=utf-8"})


def _installed(args: SuccessArgs) -> BoltResponse:
    installation = args.installation
    where = installation.team_name or installation.enterprise_name or "your workspace"
    if installation.is_enterprise_install:
        where = f"the {where} org (every workspace your org admins add it to)"
    return page("installed", "Throughline is installed", 200, where=where)


def _failed(args: FailureArgs) -> BoltResponse:
    message = FAILURES.get(args.reason, f"Slack answered {args.reason!r}, so nothing was installed.")
    log.info("an install failed: %s", args.reason)
    status = 200 if args.reason == "access_denied" else args.suggested_status_code
    return page("failed", "Throughline was not installed", status, message=message, again=INSTALL_PATH)


class InstallFlow(OAuthFlow):
    """bolt's OAuth flow with Throughline's own install page."""

    def build_install_page_html(self, url: str, request: BoltRequest) -> str:
        return str(page("install", "Add Throughline to Slack", 200, url=url).body)


class InstallAuthorize(Authorize):
    """bolt's authorize: the workspace's own installation (None: not installed, bolt answers the
    user with `user_facing_authorize_error_message`)."""

    def __init__(self, installs: OAuthInstalls) -> None:
        self.installs = installs

    def __call__(
        self,
        *,
        context: Any,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        **_: Any,
    ) -> AuthorizeResult | None:
        try:
            bot = self.installs.authorize(team_id, enterprise_id)
        except NotInstalled as exc:
            log.warning(
                "a request from %s, which has no installation (%s)", team_id or enterprise_id, exc.reason
            )
            return None
        return AuthorizeResult(
            enterprise_id=enterprise_id or bot.enterprise_id,
            team_id=team_id,
            bot_token=bot.token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            user_id=user_id,
        )


def install_flow(settings: Settings, installs: OAuthInstalls) -> InstallFlow:
    assert settings.slack_client_id and settings.slack_client_secret is not None
    oauth_settings = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        scopes=bot_scopes(),
        redirect_uri=settings.slack_redirect_uri,
        install_path=INSTALL_PATH,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=CallbackOptions(success=_installed, failure=_failed),
        authorization_url=authorization_url(settings.slack_api_url),
        installation_store=installs.installation_store,
        installation_store_bot_only=True,
        state_store=installs.state_store,
        state_expiration_seconds=STATE_SECONDS,
        token_rotation_expiration_minutes=settings.token_refresh_minutes,
    )
    return InstallFlow(settings=oauth_settings, logger=logging.getLogger("throughline.oauth"))
