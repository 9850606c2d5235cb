"""The events that install and uninstall (OAuth mode only): `app_uninstalled` and `tokens_revoked`
(in either order) stop all sending to the workspace at once; `team_access_granted` and
`team_access_revoked` add or take away a workspace of an Enterprise Grid org that installed the app
org-wide (https://api.slack.com/events/app_uninstalled, /events/tokens_revoked,
/events/team_access_granted, /events/team_access_revoked)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.core import uninstall
from bot.core.installs import OAuthInstalls
from bot.core.services import Services

log = logging.getLogger(__name__)


def _who(body: dict[str, Any]) -> tuple[str | None, str | None, bool]:
    """(team, enterprise, org-wide) an event is about."""
    authorization = (body.get("authorizations") or [{}])[0]
    org_wide = bool(authorization.get("is_enterprise_install"))
    enterprise = body.get("enterprise_id") or authorization.get("enterprise_id")
    team = None if org_wide else body.get("team_id") or authorization.get("team_id")
    return team, enterprise, org_wide


def register(app: App, services: Services) -> None:
    installs = services.installs
    if not isinstance(installs, OAuthInstalls):
        # one bot token: its workspace is installed by hand, and there is no install flow to resume
        # it; the events are answered (not retried by Slack) and said in the log
        @app.event("app_uninstalled")
        @app.event("tokens_revoked")
        def token_gone(body: dict[str, Any]) -> None:
            log.warning(
                "%s: %s; SLACK_BOT_TOKEN no longer works there", body.get("team_id"), body["event"]["type"]
            )

        return

    def gone(body: dict[str, Any], *, teams: list[str] | None = None, forget: bool = True) -> None:
        team, enterprise, _ = _who(body)
        if forget:
            installs.forget(team, enterprise)
        with services.db.session() as session:
            parked = uninstall.uninstalled(session, team, enterprise, services.clock.now(), teams)
        log.info(
            "%s: uninstalled (%s); %d messages parked", team or enterprise, body["event"]["type"], parked
        )

    @app.event("app_uninstalled")
    def app_uninstalled(body: dict[str, Any]) -> None:
        gone(body)

    @app.event("tokens_revoked")
    def tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):
            gone(body)  # user tokens alone: Throughline has none

    @app.event("team_access_revoked")
    def team_access_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        gone(body, teams=list(event.get("team_ids") or []), forget=False)

    @app.event("team_access_granted")
    def team_access_granted(body: dict[str, Any], event: dict[str, Any]) -> None:
        _, enterprise, _ = _who(body)
        with services.db.session() as session:
            uninstall.installed(
                session, None, enterprise, services.clock.now(), list(event.get("team_ids") or [])
            )
