"""What a handler or a job needs, passed in explicitly: no module-level app, session or clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy.orm import Session

from bot.core.clock import Clock
from bot.core.config import Settings, WorkspaceSettings
from bot.core.installs import Clients, Installs
from bot.core.workspaces import settings_for
from storage.db import Database


def make_client(settings: Settings, *, timeout: int = 10, retry_rate_limits: bool = True) -> WebClient:
    """The Web API client: Slack's (or the fake's) base URL, with retries for 5xx and dropped
    connections, and for 429 honouring Retry-After unless `retry_rate_limits` is off (the outbox's
    deliverer waits those out itself, for every sender at once)."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    handlers: list[RetryHandler] = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    if retry_rate_limits:
        handlers.append(RateLimitErrorRetryHandler(max_retry_count=2))
    return WebClient(token=token, base_url=settings.slack_api_url, timeout=timeout, retry_handlers=handlers)


def _no_kick() -> None:
    return None


@dataclass
class Services:
    settings: Settings
    db: Database
    clock: Clock
    client: WebClient
    # wakes the delivery worker; the commit hook calls it, handlers rarely need to
    kick: Callable[[], None] = field(default=_no_kick)
    # who speaks for each workspace (None: `client`, for every workspace, as in tests of one part)
    installs: Installs | None = None
    defaults: WorkspaceSettings = field(init=False)
    _clients: Clients = field(init=False)

    def __post_init__(self) -> None:
        self.defaults = self.settings.workspace_defaults()
        self._clients = Clients(self.client)

    def client_for(self, team_id: str) -> WebClient:
        """The Web API client with `team_id`'s own token. Raises NotInstalled when it has none."""
        if self.installs is None:
            return self.client
        return self._clients.get(self.installs.authorize(team_id).token)

    def workspace(self, session: Session, team_id: str) -> WorkspaceSettings:
        """The effective settings of a workspace: config defaults plus its saved overrides."""
        return settings_for(session, team_id, self.defaults)
