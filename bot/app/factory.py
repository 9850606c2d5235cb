"""The app factory: one bolt App per process, built from explicit parts."""

from __future__ import annotations

import logging
from concurrent.futures import Executor

from slack_bolt import App

from bot.core.services import Services
from bot.slack.registration import register_all


def create_app(services: Services, *, listener_executor: Executor | None = None) -> App:
    """A bolt App wired to `services` (the process's one database, clock, Slack client and
    delivery kick), talking to Slack (or the fake) at `services.settings.slack_api_url`.

    Listeners run in the request's thread and Slack gets the answer when they return
    (`process_before_response`): each is fast (the database, at most one Slack call).
    """
    settings = services.settings
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = App(
        client=services.client,
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
