"""The app factory: one bolt App per process, built from explicit parts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor

from slack_bolt import App
from slack_sdk import WebClient

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.services import Services, make_client
from storage.db import Database


def create_app(
    settings: Settings,
    db: Database,
    *,
    client: WebClient | None = None,
    clock: Clock | None = None,
    kick: Callable[[], None] | None = None,
    listener_executor: Executor | None = None,
) -> App:
    """A bolt App wired to `db`, talking to Slack (or the fake) at `settings.slack_api_url`.

    Listeners ack first and work after (bolt's default), so Slack's 3-second budget is kept.
    """
    import handlers

    services = Services(
        settings=settings,
        db=db,
        clock=clock or SystemClock(),
        client=client or make_client(settings),
    )
    if kick is not None:
        services.kick = kick
    signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    app = App(
        client=services.client,
        signing_secret=signing_secret,
        listener_executor=listener_executor,
        logger=logging.getLogger("throughline.bolt"),
    )
    handlers.register_all(app, services)
    app.services = services  # type: ignore[attr-defined]  # for the runtime and tests
    return app
