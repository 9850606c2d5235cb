"""Webhooks as the vendors send them: a JSON body POSTed with the vendor's headers, signed with
HMAC-SHA256 of the raw body under the shared secret.

- GitHub: `X-Hub-Signature-256: sha256=<hex>`, `X-GitHub-Event`, `X-GitHub-Delivery` (a GUID, the
  same when a delivery is redelivered), `User-Agent: GitHub-Hookshot/…`
  (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries,
  https://docs.github.com/en/webhooks/webhook-events-and-payloads#delivery-headers).
- Jira Cloud admin webhooks with a secret: `X-Hub-Signature: sha256=<hex>` (WebSub's
  method=signature), `X-Atlassian-Webhook-Identifier` (unique per delivery, unchanged across
  retries), `X-Atlassian-Webhook-Retry` on a retry
  (https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any


def signature(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of body>`, the form both vendors send."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Delivery:
    """A webhook ready to send (or to send again, or to tamper with in a test)."""

    url: str
    body: bytes
    headers: dict[str, str]

    def send(self, timeout: float = 5) -> tuple[int, str]:
        """POST it; (status, body text)."""
        request = urllib.request.Request(self.url, data=self.body, headers=self.headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def encode(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()
