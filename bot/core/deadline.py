"""A Web API client bounded by a deadline: each call gets the time left as its timeout, and none is
started once it has passed. The Slack edge (bot.slack.deadline) gives every request one, so
that its answer reaches Slack inside Slack's 3 s even when the API hangs."""

from __future__ import annotations

import time
import urllib.error
from typing import Any

from slack_sdk import WebClient
from slack_sdk.web import SlackResponse

MIN_CALL = 0.05  # a call with less time left than this is not started


class SlackTooSlow(TimeoutError):
    """A Slack call was not made, or given up, because the request's deadline passed."""


class DeadlineClient(WebClient):
    """A WebClient whose calls each get the time left before `deadline` (time.monotonic()) as their
    timeout, and none once it has passed; no retry handlers (there is no time to wait one out). A
    timeout interrupts a call that sends nothing back for that long, which is how Slack's API
    fails when it is slow."""

    def __init__(self, *, deadline: float, **kwargs: Any) -> None:
        super().__init__(retry_handlers=[], **kwargs)
        self.deadline = deadline

    def within(self, seconds: float) -> DeadlineClient:
        """The same client, with at most `seconds` from now (for a call the answer can do without)."""
        return DeadlineClient(
            deadline=min(self.deadline, time.monotonic() + seconds),
            token=self.token,
            base_url=self.base_url,
            ssl=self.ssl,
            proxy=self.proxy,
            headers=self.headers,
            logger=self.logger,
        )

    def api_call(self, api_method: str, **kwargs: Any) -> SlackResponse:
        left = self.deadline - time.monotonic()
        if left < MIN_CALL:
            raise SlackTooSlow(f"no time left for {api_method} before Slack's 3 s")
        self.timeout = left  # type: ignore[assignment]  # urllib takes seconds as a float
        try:
            return super().api_call(api_method, **kwargs)
        except (TimeoutError, urllib.error.URLError) as exc:
            # a read timeout arrives as TimeoutError, a connect timeout wrapped in URLError
            if isinstance(exc, urllib.error.URLError) and not isinstance(exc.reason, TimeoutError):
                raise
            raise SlackTooSlow(f"{api_method} did not answer in {left:.1f} s") from exc


def bounded(client: WebClient, seconds: float) -> WebClient:
    """`client` allowed at most `seconds` more for its calls, without retries."""
    if isinstance(client, DeadlineClient):
        return client.within(seconds)
    return DeadlineClient(deadline=time.monotonic() + seconds, token=client.token, base_url=client.base_url)
