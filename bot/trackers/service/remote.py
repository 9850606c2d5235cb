"""Asking the trackers over REST: one item's state, an epic's children counted a page at a time.

Within the vendors' limits: a 429 (either vendor) waits `Retry-After`; GitHub's budget is read from
`x-ratelimit-remaining` on every answer, and the client stops, leaving a reserve, until
`x-ratelimit-reset`, as GitHub asks
(https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api,
https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
"""

from __future__ import annotations

import base64
import json
import logging
import time
import urllib.error
import urllib.request
from datetime import datetime
from email.message import Message
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from bot.core.integrations import TrackerSettings
from bot.trackers.models import (
    TRACKER_NAMES,
    Item,
    ItemGone,
    Kind,
    RateLimited,
    Ref,
    Tracker,
    TrackerUnreachable,
)
from bot.trackers.service import reading

log = logging.getLogger(__name__)
GITHUB_RESERVE = 50  # requests left for everything else that shares the token
EPIC_PAGE = 100
EPIC_PAGES = 50  # 5,000 children at most are counted
DEFAULT_WAIT = 60.0  # seconds, when a 429 says not how long


def auth_headers(settings: TrackerSettings, tracker: Tracker) -> dict[str, str]:
    """The headers every request to `tracker` carries: its credentials and the API version."""
    if tracker is Tracker.GITHUB:
        headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}
        if settings.github_token:
            headers["Authorization"] = f"Bearer {settings.github_token.get_secret_value()}"
        return headers
    email = settings.jira_email or ""
    token = settings.jira_api_token.get_secret_value() if settings.jira_api_token else ""
    basic = base64.b64encode(f"{email}:{token}".encode()).decode()
    return {"Authorization": f"Basic {basic}", "Accept": "application/json"}


class TrackerRefused(TrackerUnreachable):
    """The tracker refused Throughline's credentials: an admin has to fix a setting."""


class _OutOfTime(Exception):
    """The read's time budget is spent (a link check must answer inside Slack's 3 s)."""


class Remote:
    """REST clients for the configured trackers, at `now` (for how long a rate limit lasts).
    With `budget` (seconds), one read stops asking once it is spent: an epic too large to count in
    time is returned without its counts, for the reconcile to count."""

    def __init__(self, settings: TrackerSettings, now: datetime, *, budget: float | None = None) -> None:
        self.settings = settings
        self.now = now
        self.timeout = settings.tracker_timeout_seconds
        self.budget = budget
        self._deadline: float | None = None
        self._asked = 0  # requests made by the current read
        self.github_remaining: int | None = None
        self.github_reset: float | None = None
        self.calls = 0

    def read(self, ref: Ref) -> Item:
        """The item's state now. Raises ItemGone (404), RateLimited, TrackerUnreachable, TrackerRefused."""
        self._deadline = time.monotonic() + self.budget if self.budget is not None else None
        self._asked = 0
        if ref.tracker is Tracker.JIRA:
            return self._jira(ref)
        return self._github(ref)

    # -- Jira ------------------------------------------------------------------------------------

    def _jira_headers(self) -> dict[str, str]:
        return auth_headers(self.settings, Tracker.JIRA)

    def _jira(self, ref: Ref) -> Item:
        fields = "summary,status,assignee,issuetype,parent,updated"
        url = f"{ref.site}/rest/api/3/issue/{quote(ref.ref)}?fields={fields}"
        body = self._get(ref, url, self._jira_headers())
        item = reading.jira_item(ref.site, body)
        if item.ref.kind is not Kind.EPIC:
            return item
        done = total = 0
        token = ""
        for _ in range(EPIC_PAGES):
            query = {"jql": f"parent = {ref.ref}", "fields": "status", "maxResults": str(EPIC_PAGE)}
            if token:
                query["nextPageToken"] = token
            try:
                page = self._get(
                    ref, f"{ref.site}/rest/api/3/search/jql?{urlencode(query)}", self._jira_headers()
                )
            except _OutOfTime:
                return item  # counted later, by the reconcile
            issues = page.get("issues") or []
            total += len(issues)
            done += sum(1 for issue in issues if reading.jira_done(issue))
            token = str(page.get("nextPageToken") or "")
            if page.get("isLast", True) or not token:
                break
        return reading.jira_item(ref.site, body, (done, total))

    # -- GitHub ----------------------------------------------------------------------------------

    def _github(self, ref: Ref) -> Item:
        if (
            self.github_remaining is not None
            and self.github_remaining <= GITHUB_RESERVE
            and self.github_reset is not None
        ):
            raise RateLimited(ref.site, max(1.0, self.github_reset - self.now.timestamp()))
        segment = {Kind.PULL: "pulls", Kind.MILESTONE: "milestones"}.get(ref.kind, "issues")
        headers = auth_headers(self.settings, Tracker.GITHUB)
        url = f"{self.settings.github_api_url}/repos/{ref.site}/{segment}/{ref.ref}"
        body = self._get(ref, url, headers)
        return reading.github_item(ref.site, body, ref.kind)

    # -- HTTP ------------------------------------------------------------------------------------

    def _get(self, ref: Ref, url: str, headers: dict[str, str]) -> dict[str, Any]:
        name, host = TRACKER_NAMES[ref.tracker], urlsplit(url).netloc
        timeout = self.timeout
        if self._deadline is not None and self._asked:  # a read's first request has the whole timeout
            timeout = min(timeout, self._deadline - time.monotonic())
            if timeout <= 0.05:
                raise _OutOfTime
        request = urllib.request.Request(url, headers={**headers, "User-Agent": "Throughline"})  # noqa: S310
        self.calls += 1
        self._asked += 1
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                status, answer, raw = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, answer, raw = error.code, error.headers, error.read()
        except OSError as exc:  # URLError, timeouts and refused connections are all OSErrors
            if self._deadline is not None and self._asked > 1 and time.monotonic() >= self._deadline - 0.05:
                raise _OutOfTime from None
            reason = getattr(exc, "reason", exc)
            log.info("%s at %s unreachable: %s", name, host, reason)
            raise TrackerUnreachable(
                f"{name} at {host} did not answer ({reason}), so nothing was linked or changed. "
                "Try again in a minute."
            ) from None
        if ref.tracker is Tracker.GITHUB:
            self._budget(answer)
        if status == 429 or (status == 403 and answer.get("x-ratelimit-remaining") == "0"):
            raise RateLimited(ref.site, self._wait(answer))
        if status in (401, 403):
            fix = (
                "THROUGHLINE_JIRA_EMAIL and THROUGHLINE_JIRA_API_TOKEN"
                if ref.tracker is Tracker.JIRA
                else "THROUGHLINE_GITHUB_TOKEN (it needs read access to issues and pull requests)"
            )
            raise TrackerRefused(
                f"{name} refused Throughline's credentials ({status}): an admin checks {fix}."
            )
        if status == 404 or status == 410:
            raise ItemGone(ref.label)
        if status >= 400:
            raise TrackerUnreachable(
                f"{name} at {host} answered with an error ({status}), so nothing was linked or changed. "
                "Try again in a minute."
            )
        try:
            body = json.loads(raw)
        except ValueError:
            raise TrackerUnreachable(f"{name} at {host} sent an answer that is not JSON.") from None
        if not isinstance(body, dict):
            raise TrackerUnreachable(f"{name} at {host} sent an answer Throughline can't read.")
        return body

    def _budget(self, headers: Message) -> None:
        remaining, reset = headers.get("x-ratelimit-remaining"), headers.get("x-ratelimit-reset")
        if remaining is not None and str(remaining).isdigit():
            self.github_remaining = int(remaining)
        if reset is not None and str(reset).isdigit():
            self.github_reset = float(reset)

    def _wait(self, headers: Message) -> float:
        after = headers.get("retry-after")
        if after is not None and str(after).strip().isdigit():
            return max(1.0, float(after))
        reset = headers.get("x-ratelimit-reset")
        if reset is not None and str(reset).isdigit():
            return max(1.0, float(reset) - self.now.timestamp())
        return DEFAULT_WAIT
