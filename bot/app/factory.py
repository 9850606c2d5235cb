"""The app factory: one bolt App per process, built from explicit parts."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.app.oauth import InstallAuthorize, install_flow
from bot.app.readiness import SlackIdentity
from bot.core.installs import OAuthInstalls
from bot.core.services import Services
from bot.slack.registration import register_all

NO_SLACK = "Throughline cannot reach Slack's API just now, so it could not do that; try again in a minute."
NOT_INSTALLED = (
    "Throughline is not installed in this workspace (or was uninstalled), so it could not do that; "
    "an admin can install it again from the install page."
)


def create_app(
    services: Services, identity: SlackIdentity, *, listener_executor: Executor | None = None
) -> App:
    """A bolt App wired to `services` (the process's one database, clock, Slack client and
    delivery kick), talking to Slack (or the fake) at `services.settings.slack_api_url`.

    Listeners run in the request's thread and Slack gets the answer when they return
    (`process_before_response`): each is fast (the database, at most one Slack call).

    The bot's identity comes from `identity` (auth.test asked when Slack first answers, not when
    the App is built), so the App starts, and answers, without Slack.
    """
    settings = services.settings
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    base = services.client
    installs = services.installs
    authorize: Any
    if isinstance(installs, OAuthInstalls):
        # OAuth: each workspace's installation; /slack/install and /slack/oauth_redirect (bot/app/oauth.py)
        authorize, flow, refusal = InstallAuthorize(installs), install_flow(settings, installs), NOT_INSTALLED
    else:
        # bolt answers None with `user_facing_authorize_error_message` (its typing says otherwise)
        authorize, flow, refusal = (lambda context: identity.authorize(context)), None, NO_SLACK
    app = App(
        # bolt takes the token from `authorize`; each request gets a copy of this client with it
        client=WebClient(base_url=base.base_url, timeout=base.timeout, retry_handlers=base.retry_handlers),
        authorize=authorize,
        oauth_flow=flow,
        user_facing_authorize_error_message=refusal,
        signing_secret=signing_secret,
        # a listener runs to its end in the request's own thread, and the answer goes back then:
        # no hand-off to a pool and no 10 ms polling for ack(); every listener here finishes in
        # well under Slack's 3 s (they call Slack at most once, with a short timeout)
        process_before_response=True,
        listener_executor=listener_executor,
        logger=logging.getLogger("throughline.bolt"),
    )
    register_all(app, services)
    app.services = services  # type: ignore[attr-defined]  # for the runtime and tests
    return app
