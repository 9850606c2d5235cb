"""`POST /webhooks/github` and `POST /webhooks/jira`: a tracker tells us an item changed.

Checked as the vendors document: the body's HMAC-SHA256 under the shared secret
(`X-Hub-Signature-256` from GitHub, `X-Hub-Signature` from a Jira admin webhook with a secret),
compared in constant time; a forgery is refused with 401. Each delivery id (`X-GitHub-Delivery`,
`X-Atlassian-Webhook-Identifier`) is recorded in the same transaction as its effect, so a replay
or a retry of a processed delivery changes nothing (200, "already processed": the vendor stops
retrying), and a delivery whose effect failed is not recorded (5xx: the vendor retries). A replayed
body under a new id is older than what the links hold and moves nothing back (links.apply).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from urllib.parse import parse_qs

from pydantic import SecretStr

from bot.core.services import Services
from bot.trackers import flows
from bot.trackers.models import Item, Ref, Tracker
from bot.trackers.service import links
from storage.db import UNREACHABLE

log = logging.getLogger(__name__)
PATHS = {"/webhooks/github": Tracker.GITHUB, "/webhooks/jira": Tracker.JIRA}
_SIGNATURE = {Tracker.GITHUB: "x-hub-signature-256", Tracker.JIRA: "x-hub-signature"}
_DELIVERY = {Tracker.GITHUB: "x-github-delivery", Tracker.JIRA: "x-atlassian-webhook-identifier"}
_SECRET_SETTING = {
    Tracker.GITHUB: "THROUGHLINE_GITHUB_WEBHOOK_SECRET",
    Tracker.JIRA: "THROUGHLINE_JIRA_WEBHOOK_SECRET",
}


def signed(secret: str, body: bytes, header: str | None) -> bool:
    """Whether `header` is `sha256=<hex HMAC-SHA256 of body under secret>`."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(expected.encode(), header.strip().encode())


def _json_of(headers: Mapping[str, str], body: bytes) -> bytes | str:
    """The JSON of a delivery: the body, or its `payload` field when GitHub was set to send
    application/x-www-form-urlencoded (the signature covers the raw body either way)."""
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return (parse_qs(body.decode("utf-8")).get("payload") or ["null"])[0]
    return body


class Webhooks:
    """The receiver the HTTP server hands webhook requests to."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def receive(self, path: str, headers: Mapping[str, str], body: bytes) -> tuple[str, str]:
        """(HTTP status line, a one-line answer) for a webhook request; `headers` in lower case."""
        tracker = PATHS.get(path)
        if tracker is None:
            return "404 Not Found", "no such webhook"
        settings = self.services.settings
        secret: SecretStr | None = (
            settings.github_webhook_secret if tracker is Tracker.GITHUB else settings.jira_webhook_secret
        )
        if secret is None:
            return (
                "404 Not Found",
                f"{tracker.value} webhooks are not set up here ({_SECRET_SETTING[tracker]})",
            )
        if not signed(secret.get_secret_value(), body, headers.get(_SIGNATURE[tracker])):
            log.warning("refused a %s webhook: the signature does not match", tracker.value)
            return "401 Unauthorized", "signature does not match"
        delivery = headers.get(_DELIVERY[tracker]) or ""
        if not delivery:
            if tracker is Tracker.GITHUB:
                return "400 Bad Request", "no X-GitHub-Delivery"
            delivery = "body:" + hashlib.sha256(body).hexdigest()
        try:
            payload = json.loads(_json_of(headers, body))
            if not isinstance(payload, dict):
                raise ValueError("not an object")
            news = self._news(tracker, headers, payload)
        except (ValueError, TypeError) as exc:
            log.info("refused a %s webhook: %s", tracker.value, exc)
            return "400 Bad Request", f"not a {tracker.value} webhook payload"
        return self._apply(tracker, delivery, *news)

    def _news(
        self, tracker: Tracker, headers: Mapping[str, str], payload: dict[str, object]
    ) -> tuple[list[Item], list[Ref], list[Ref]]:
        if tracker is Tracker.JIRA:
            return flows.jira_news(payload, self.services.settings.jira_sites)
        items, gone = flows.github_news(headers.get("x-github-event") or "", payload)
        return items, gone, []

    def _apply(
        self, tracker: Tracker, delivery: str, items: list[Item], gone: list[Ref], epics: list[Ref]
    ) -> tuple[str, str]:
        now = self.services.clock.now()
        try:
            with self.services.db.session() as session:
                if not links.first_delivery(session, tracker, delivery, now):
                    return "200 OK", "already processed"
                changed = flows.apply_news(session, items, gone, epics, now)
        except UNREACHABLE as exc:
            log.warning("%s webhook %s not applied: database unavailable (%s)", tracker.value, delivery, exc)
            return "503 Service Unavailable", "database unavailable; deliver it again later"
        return "200 OK", f"{changed} linked item(s) updated"
