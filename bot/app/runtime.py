"""A running Throughline: database, Slack client, delivery worker, scheduler and the bolt app."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError

from bot.app.factory import create_app
from bot.app.readiness import SlackIdentity, SlackRefused
from bot.app.tick import TickReport, tick
from bot.core.clock import Clock, SystemClock
from bot.core.config import ConfigError, Settings
from bot.core.installs import Installs, OAuthInstalls
from bot.core.services import Services, make_client
from bot.outbox.deliverer import Deliverer
from bot.outbox.pace import Pace
from bot.outbox.worker import DeliveryWorker, watch_commits
from storage import migrate
from storage.db import Database

log = logging.getLogger(__name__)


class Runtime:
    def __init__(
        self,
        settings: Settings,
        *,
        clock: Clock | None = None,
        client: WebClient | None = None,
        listener_executor: Executor | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock or SystemClock()
        self.db = Database(settings.database_url)
        self.client = client or make_client(settings)
        self.identity = SlackIdentity(self.client)
        self.installs = self._installs()
        self.deliverer = Deliverer(
            self.db,
            make_client(settings, retry_rate_limits=False) if client is None else client,
            self.clock,
            settings.workspace_defaults(),
            lease=timedelta(seconds=settings.delivery_lease_seconds),
            pace=Pace(settings.slack_post_rate, settings.slack_post_burst),
            max_attempts=settings.delivery_max_attempts,
            installs=self.installs,
        )
        self.worker = DeliveryWorker(self.deliverer)
        watch_commits(self.db, self.worker.kick)
        self.services = Services(
            settings=settings,
            db=self.db,
            clock=self.clock,
            client=self.client,
            kick=self.worker.kick,
            installs=self.installs,
        )
        self._listener_executor = listener_executor
        self._scheduler: Any = None
        self._stopping = threading.Event()

    def _installs(self) -> Installs:
        """Who speaks for each workspace: each one's OAuth installation, or the one bot token."""
        settings = self.settings
        if settings.oauth_enabled:
            assert settings.slack_client_id and settings.slack_client_secret is not None
            return OAuthInstalls(
                self.db,
                self.client,
                client_id=settings.slack_client_id,
                client_secret=settings.slack_client_secret.get_secret_value(),
                refresh_minutes=settings.token_refresh_minutes,
                on_installed=self._installed,
            )
        token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
        return Installs(token, self.identity.whoami)

    def _installed(self, team_id: str | None, enterprise_id: str | None, teams: list[str]) -> None:
        """An install was saved: the workspace (or the org's) resumes where it left off."""
        from bot.core import uninstall

        with self.db.session() as session:
            uninstall.installed(session, team_id, enterprise_id, self.clock.now())

    @cached_property
    def app(self) -> App:
        """The bolt app, built on first use. It asks Slack who the bot is (auth.test) once, and
        is built without the answer when Slack cannot be reached (see `wait_for_slack`)."""
        if self.settings.slack_bot_token is not None and not self.installs.oauth:
            try:
                self.identity.check()
            except SlackRefused as exc:
                raise ConfigError(str(exc)) from None
        return create_app(self.services, self.identity, listener_executor=self._listener_executor)

    def wait_for_slack(self, say: Callable[[str], None]) -> None:
        """When Slack has not answered yet: say so in one line and keep asking, with backoff, in
        the background until it does (or the process stops)."""
        if self.identity.ready or self.installs.oauth:
            return
        threading.Thread(
            target=self.identity.keep_trying, args=(self._stopping, say), name="slack-identity", daemon=True
        ).start()

    def readiness(self) -> tuple[bool, dict[str, str]]:
        """Ready when Slack has answered auth.test and the database answers; else why not."""
        reasons: dict[str, str] = {}
        if not self.identity.ready and not self.installs.oauth:
            reasons["slack"] = self.identity.problem
        try:
            self.db.ping()
        except Exception as exc:
            reasons["database"] = f"the database does not answer ({_first_line(exc)})"
        return not reasons, reasons

    def socket_mode_handler(self, *, ping_interval: float = 10) -> Any:
        """The Socket Mode connection for `throughline run`: reconnects by itself after a drop
        (a new URL from apps.connections.open each time)."""
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        if self.installs.oauth:
            raise ConfigError(
                "SLACK_CLIENT_ID: OAuth install for many workspaces runs in HTTP mode; "
                "use `throughline serve`"
            )
        if self.settings.slack_app_token is None:
            raise ConfigError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token")
        return SocketModeHandler(
            self.app,
            self.settings.slack_app_token.get_secret_value(),
            web_client=self.client,
            auto_reconnect_enabled=True,
            ping_interval=ping_interval,
        )

    def prepare_database(self, migrate_now: bool | None = None) -> None:
        """Migrate (the default) or refuse to start on a schema behind this version."""
        should_migrate = self.settings.migrate_on_start if migrate_now is None else migrate_now
        try:
            if should_migrate:
                migrate.upgrade(
                    self.db.engine,
                    lock_timeout=self.settings.migration_lock_timeout,
                    statement_timeout=self.settings.migration_statement_timeout,
                )
            elif (current := migrate.current_revision(self.db.engine)) is None:
                raise ConfigError(
                    "the database has no Throughline schema yet (THROUGHLINE_MIGRATE_ON_START is off): "
                    "run `throughline db upgrade` to create it (or set THROUGHLINE_MIGRATE_ON_START=true)"
                )
            elif current != migrate.head_revision():
                raise ConfigError(
                    f"the database is at schema revision {current} but this Throughline needs "
                    f"{migrate.head_revision()}: run `throughline db upgrade` "
                    "(or set THROUGHLINE_MIGRATE_ON_START=true)"
                )
        except migrate.NotThroughline as exc:
            raise ConfigError(f"DATABASE_URL: {exc}") from None
        except OperationalError as exc:
            raise ConfigError(f"DATABASE_URL: cannot reach the database ({_first_line(exc)})") from None

    def tick(self, now: datetime | None = None) -> TickReport:
        return tick(self.services, now or self.clock.now(), self.deliverer)

    def start_background(self, *, scheduler: bool = True) -> None:
        from bot.app.scheduler import start_scheduler

        self.worker.start()
        if scheduler:
            self._scheduler = start_scheduler(
                self.tick, self.settings.tick_seconds, first_in=min(5.0, self.settings.tick_seconds)
            )

    def stop(self) -> None:
        self._stopping.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        self.worker.stop()
        self.db.dispose()


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
