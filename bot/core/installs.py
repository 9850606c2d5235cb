"""Which bot token speaks for a workspace: the one authorize function every outgoing call goes
through (bolt's requests, the delivery worker, the tick and the CLI).

Two modes:
- single token (`SLACK_BOT_TOKEN`, the embedded default): the token speaks for its own workspace,
  the one auth.test names; the delivery worker claims that workspace's rows only, so deployments
  sharing a database never send each other's messages.
- OAuth (`SLACK_CLIENT_ID` and `SLACK_CLIENT_SECRET`): each workspace's installation, kept by
  slack_sdk's `SQLAlchemyInstallationStore` in our database (an org-wide Enterprise Grid install
  serves every workspace of the org it was granted to). A rotating token is refreshed
  (`oauth.v2.access`, `grant_type=refresh_token`) once it is within `token_refresh_minutes` of
  expiring, so no call is made with an expired one. A workspace with no installation, or whose
  app was uninstalled, has no token: `NotInstalled`, and its messages are parked with that reason.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from storage.db import Database
from storage.integrations import SLACK_BOTS, SLACK_INSTALLATIONS, SLACK_OAUTH_STATES
from storage.models import Workspace

log = logging.getLogger(__name__)

NOT_INSTALLED = "not installed"  # the reason a row is parked with: no installation for its workspace
UNINSTALLED = "uninstalled"  # the app was uninstalled from the workspace (or its tokens revoked)
STATE_SECONDS = 600  # an OAuth state (the install link) lasts 10 minutes


class NotInstalled(Exception):
    """No token speaks for this workspace; `reason` is NOT_INSTALLED or UNINSTALLED."""

    def __init__(self, team_id: str | None, reason: str) -> None:
        super().__init__(f"{team_id}: {reason}")
        self.team_id = team_id
        self.reason = reason


@dataclass(frozen=True)
class BotToken:
    token: str
    team_id: str | None
    enterprise_id: str | None = None
    bot_user_id: str | None = None
    bot_id: str | None = None
    is_enterprise_install: bool = False


class Installs:
    """The authorize function and the workspaces it serves (base: single-token mode)."""

    oauth = False

    def __init__(self, token: str | None, whoami: Callable[[], Mapping[str, Any] | None]) -> None:
        self.token = token
        self._whoami = whoami

    def authorize(self, team_id: str | None, enterprise_id: str | None = None) -> BotToken:
        """The token for `team_id`. Raises NotInstalled when there is none."""
        if self.token is None:
            raise NotInstalled(team_id, NOT_INSTALLED)
        auth = self._whoami() or {}
        return BotToken(
            self.token,
            auth.get("team_id") or team_id,
            auth.get("enterprise_id") or enterprise_id,
            auth.get("user_id"),
            auth.get("bot_id"),
        )

    def serves(self) -> frozenset[str] | None:
        """The workspaces whose messages this process may send (None: any it has a token for).
        A single token serves its own workspace only; until Slack has said which (auth.test), none."""
        if self.token is None:
            return frozenset()  # no token: messages stay queued
        auth = self._whoami()
        return frozenset({auth["team_id"]}) if auth and auth.get("team_id") else frozenset()


class ThroughlineInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store on our tables (storage/models.py), telling us when an install is saved."""

    def __init__(self, client_id: str, db: Database, on_saved: Callable[[Any], None]) -> None:
        super().__init__(client_id, db.engine)
        self.metadata = SLACK_BOTS.metadata
        self.bots, self.installations = SLACK_BOTS, SLACK_INSTALLATIONS
        self._on_saved = on_saved

    def save(self, installation: Any) -> None:
        super().save(installation)
        self._on_saved(installation)


def state_store(db: Database) -> SQLAlchemyOAuthStateStore:
    store = SQLAlchemyOAuthStateStore(STATE_SECONDS, db.engine)
    store.metadata, store.oauth_states = SLACK_OAUTH_STATES.metadata, SLACK_OAUTH_STATES
    return store


class OAuthInstalls(Installs):
    """Each workspace's own installation (OAuth mode)."""

    oauth = True

    def __init__(
        self,
        db: Database,
        client: WebClient,
        *,
        client_id: str,
        client_secret: str,
        refresh_minutes: int,
        on_installed: Callable[[str | None, str | None, list[str]], None] | None = None,
        wall: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(None, lambda: None)
        self.db = db
        self.client = client  # for oauth.v2.access (its base URL: Slack's, or the local one)
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_seconds = refresh_minutes * 60
        self.on_installed = on_installed
        self.wall = wall  # token expiry is Slack's wall clock, not the domain's
        self._refreshing = threading.Lock()
        self.installation_store = ThroughlineInstallationStore(client_id, db, self._saved)
        self.state_store = state_store(db)

    def serves(self) -> frozenset[str] | None:
        return None

    def authorize(self, team_id: str | None, enterprise_id: str | None = None) -> BotToken:
        with self.db.session() as session:
            workspace = (
                session.scalar(sa.select(Workspace).where(Workspace.team_id == team_id)) if team_id else None
            )
            if workspace is not None and workspace.uninstalled_at is not None:
                raise NotInstalled(team_id, UNINSTALLED)
            enterprise = enterprise_id or (workspace.enterprise_id if workspace is not None else None)
            if team_id and enterprise and workspace is not None and workspace.enterprise_id != enterprise:
                workspace.enterprise_id = enterprise  # learnt from a request of the org's workspace
            row = self._bot_row(session, team_id, enterprise)
        if row is None:
            raise NotInstalled(team_id, NOT_INSTALLED)
        token = self._fresh(row)
        return BotToken(
            token,
            team_id,
            row.enterprise_id,
            row.bot_user_id,
            row.bot_id,
            bool(row.is_enterprise_install),
        )

    def _bot_row(self, session: Any, team_id: str | None, enterprise_id: str | None) -> Any:
        c = SLACK_BOTS.c
        latest = (
            sa.select(SLACK_BOTS)
            .where(c.client_id == self.client_id, c.bot_token.is_not(None))
            .order_by(c.installed_at.desc(), c.id.desc())
            .limit(1)
        )
        row = None
        if team_id:
            # by (client_id, enterprise_id, team_id): slack_bots_idx; `== None` is IS NULL
            row = session.execute(
                latest.where(c.enterprise_id == enterprise_id, c.team_id == team_id)
            ).first()
            if row is None:  # a workspace of an org we have not learnt yet
                row = session.execute(latest.where(c.team_id == team_id)).first()
        if row is None and enterprise_id:  # an org-wide install serves the org's workspaces
            row = session.execute(
                latest.where(c.enterprise_id == enterprise_id, c.team_id.is_(None), c.is_enterprise_install)
            ).first()
        return row

    # -- token rotation ----------------------------------------------------------------------------

    def _expiring(self, expires_at: datetime | None) -> bool:
        if expires_at is None:
            return False
        return expires_at.replace(tzinfo=UTC).timestamp() - self.wall() <= self.refresh_seconds

    def _fresh(self, row: Any) -> str:
        """The row's bot token, refreshed first when it is about to expire (one refresh at a time
        per process; the row locked while it is refreshed on PostgreSQL, so replicas take turns
        and the second reads the first one's new token)."""
        if not row.bot_refresh_token or not self._expiring(row.bot_token_expires_at):
            return str(row.bot_token)
        with self._refreshing, self.db.session() as session:
            statement = sa.select(SLACK_BOTS).where(SLACK_BOTS.c.id == row.id)
            if session.get_bind().dialect.name == "postgresql":
                statement = statement.with_for_update()
            current = session.execute(statement).one()
            if not self._expiring(current.bot_token_expires_at):
                return str(current.bot_token)  # another thread or replica refreshed it
            try:
                answer = self.client.oauth_v2_access(
                    client_id=self.client_id,
                    client_secret=self.client_secret,
                    grant_type="refresh_token",
                    refresh_token=current.bot_refresh_token,
                )
            except SlackApiError as exc:
                log.error("refreshing the bot token of %s failed: %s", row.team_id or row.enterprise_id, exc)
                return str(current.bot_token)  # still valid until it expires; tried again next call
            expires = datetime.fromtimestamp(self.wall() + int(answer.get("expires_in") or 0), tz=UTC)
            values = {
                "bot_token": answer["access_token"],
                "bot_refresh_token": answer.get("refresh_token") or current.bot_refresh_token,
                "bot_token_expires_at": expires.replace(tzinfo=None),  # slack_sdk's columns are naive UTC
            }
            session.execute(sa.update(SLACK_BOTS).where(SLACK_BOTS.c.id == row.id).values(**values))
            session.execute(
                sa.update(SLACK_INSTALLATIONS)
                .where(SLACK_INSTALLATIONS.c.bot_refresh_token == current.bot_refresh_token)
                .values(**values)
            )
            log.info("refreshed the bot token of %s", row.team_id or row.enterprise_id)
            return str(answer["access_token"])

    # -- installs ----------------------------------------------------------------------------------

    def _saved(self, installation: Any) -> None:
        if self.on_installed is not None:
            teams = [installation.team_id] if installation.team_id else []
            self.on_installed(installation.team_id, installation.enterprise_id, teams)

    def forget(self, team_id: str | None, enterprise_id: str | None) -> int:
        """Delete the installations and bots of a workspace (or of an org-wide install)."""
        deleted = 0
        with self.db.session() as session:
            for table in (SLACK_BOTS, SLACK_INSTALLATIONS):
                c = table.c
                where = (
                    c.team_id == team_id
                    if team_id
                    else sa.and_(c.enterprise_id == enterprise_id, c.team_id.is_(None))
                )
                result = session.execute(sa.delete(table).where(c.client_id == self.client_id, where))
                deleted += int(result.rowcount or 0)  # type: ignore[attr-defined]
        return deleted

    def installed_teams(self) -> list[tuple[str | None, str | None]]:
        """(team, enterprise) of every installation with a bot token."""
        c = SLACK_BOTS.c
        with self.db.session() as session:
            rows = session.execute(
                sa.select(c.team_id, c.enterprise_id).where(c.client_id == self.client_id).distinct()
            ).all()
        return [(r.team_id, r.enterprise_id) for r in rows]


class Clients:
    """A WebClient per token, made once (a token is refreshed at most every few hours)."""

    def __init__(self, base: WebClient, limit: int = 1024) -> None:
        self.base = base
        self.limit = limit
        self._made: dict[str, WebClient] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> WebClient:
        with self._lock:
            client = self._made.get(token)
            if client is None:
                if len(self._made) >= self.limit:
                    self._made.clear()
                client = WebClient(
                    token=token,
                    base_url=self.base.base_url,
                    timeout=self.base.timeout,
                    retry_handlers=list(self.base.retry_handlers),
                )
                self._made[token] = client
            return client
