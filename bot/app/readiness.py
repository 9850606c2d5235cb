"""Who the bot is in Slack (its `auth.test`), learnt when Slack first answers rather than when the
process starts: a process started before the network, behind a proxy that is not up yet or during
an outage listens, says it is not ready, and keeps asking with backoff."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)
# seconds between attempts: doubling from the first, never more than the last
BACKOFF = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)


class SlackRefused(Exception):
    """Slack answered auth.test with an error (a wrong or revoked token): retrying will not help."""


def unreachable(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class SlackIdentity:
    """The bot's auth.test answer, asked once and kept. `authorize` is bolt's authorize function
    (bolt would otherwise call auth.test when the App is built, and fail to start without Slack)."""

    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._auth: Any = None
        self.problem = "Slack has not answered auth.test yet"

    @property
    def ready(self) -> bool:
        return self._auth is not None

    def check(self, client: WebClient | None = None) -> bool:
        """Ask Slack (auth.test) unless it answered already; True once it has. Raises SlackRefused
        when Slack answers with an error."""
        if self._auth is not None:
            return True
        try:
            response = (client or self.client).auth_test()
        except SlackApiError as exc:
            self.problem = f"Slack answered auth.test with {exc.response.get('error')}"
            raise SlackRefused(f"SLACK_BOT_TOKEN: {self.problem}; check the token") from None
        except (SlackClientError, OSError) as exc:
            self.problem = f"cannot reach Slack at {self.client.base_url} ({unreachable(exc)})"
            return False
        with self._lock:
            self._auth = response
        return True

    def whoami(self) -> dict[str, Any] | None:
        """The auth.test answer, asked now if it was not yet; None while Slack does not answer."""
        try:
            if self.check():
                return dict(self._auth.data) if hasattr(self._auth, "data") else dict(self._auth)
        except SlackRefused as exc:
            log.error("%s", exc)
        return None

    def authorize(self, context: Any) -> AuthorizeResult | None:
        """bolt's authorize: the bot's identity, or None (bolt then shows the user its
        "cannot reach Slack" line) while Slack has not answered."""
        try:
            known = self.check(context.get("client"))
        except SlackRefused as exc:
            log.error("%s", exc)
            return None
        if not known:
            log.warning("interaction not handled: %s", self.problem)
            return None
        return AuthorizeResult.from_auth_test_response(
            auth_test_response=self._auth, bot_token=self.client.token
        )

    def keep_trying(self, stop: threading.Event, say: Callable[[str], None]) -> None:
        """Ask until Slack answers or `stop` is set, with backoff; `say` gets one line the first
        time, and one when Slack answers."""
        attempt = 0
        while not stop.is_set():
            try:
                if self.check():
                    if attempt:
                        say("throughline: Slack answered; ready")
                    return
            except SlackRefused as exc:
                say(f"throughline: error: {exc}")
                return
            wait = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            if attempt == 0:
                say(f"throughline: {self.problem}; retrying with backoff (up to {BACKOFF[-1]:.0f} s apart)")
            else:
                log.info("%s; retrying in %.0f s", self.problem, wait)
            attempt += 1
            stop.wait(wait)
