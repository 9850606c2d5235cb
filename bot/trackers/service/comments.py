"""Comments on linked items, over REST: post one, and look for one already posted (by its marker).

A comment carries a marker naming its row, at its end: on GitHub an HTML comment (not shown on the
page), on Jira a last line "Throughline ref: …" (Jira's comment list returns bodies but not entity
properties: `expand` there takes only `renderedBody`,
https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/ — the
marker is also stored as a comment property, for people's own tooling). After a crash or an unclear
answer, the marker tells whether the comment is there already. Text from people (a title, a name)
is defused on GitHub: `@` and `#` cannot mention anyone or link an issue, `<` opens no HTML.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from bot.core.integrations import TrackerSettings
from bot.trackers.models import Ref, Tracker
from bot.trackers.service.remote import auth_headers

log = logging.getLogger(__name__)
PROPERTY = "throughline"  # the Jira comment property holding the marker
LOOKUP_PAGES = 20  # pages of comments read at most when looking for a marker
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


@dataclass(frozen=True)
class Outcome:
    """What came of a request: `sent` with the comment's id; `retry` after `wait` seconds (it is
    known not to have been stored: a rate limit); `unclear` (a 5xx, a timeout, a dropped
    connection: it may have been stored); `refused` for good (404, 401, 403, 422: `error` says)."""

    kind: str  # sent | retry | unclear | refused
    remote_id: str | None = None
    wait: float = 0.0
    error: str = ""


def marker(team_id: str, key: str) -> str:
    return f"{team_id}:{key}"


def post(settings: TrackerSettings, ref: Ref, text: str, mark: str) -> Outcome:
    """Post `text` as a comment on `ref`, carrying `mark`."""
    if ref.tracker is Tracker.GITHUB:
        url = f"{settings.github_api_url}/repos/{ref.site}/issues/{ref.ref}/comments"
        payload: dict[str, Any] = {"body": f"{defuse_markdown(text)}\n\n{_github_marker(mark)}"}
        return _outcome(_request(settings, ref, "POST", url, payload))
    url = f"{ref.site}/rest/api/3/issue/{quote(ref.ref)}/comment"
    lines = [line for line in text.splitlines() if line] + [_jira_marker(mark)]
    payload = {
        "body": {
            "type": "doc",
            "version": 1,
            "content": [{"type": "paragraph", "content": [{"type": "text", "text": line}]} for line in lines],
        },
        "properties": [{"key": PROPERTY, "value": {"marker": mark}}],
    }
    return _outcome(_request(settings, ref, "POST", url, payload))


def find(settings: TrackerSettings, ref: Ref, mark: str) -> Outcome:
    """Whether a comment carrying `mark` is on `ref`: `sent` (with its id) if it is, `refused` with
    error "absent" if it is proven absent, otherwise what stopped the look (`retry`, `unclear`)."""
    if ref.tracker is Tracker.GITHUB:
        url: str | None = f"{settings.github_api_url}/repos/{ref.site}/issues/{ref.ref}/comments?per_page=100"
        needle = _github_marker(mark)
        for _ in range(LOOKUP_PAGES):
            if url is None:
                return Outcome("refused", error="absent")
            status, headers, body = _request(settings, ref, "GET", url, None)
            if status != 200 or not isinstance(body, list):
                return _outcome((status, headers, body))
            for comment in body:
                if isinstance(comment, dict) and str(comment.get("body") or "").rstrip().endswith(needle):
                    return Outcome("sent", str(comment.get("id")))
            found = _NEXT.search(headers.get("link") or "")
            url = found.group(1) if found else None
        return Outcome("unclear", error="too many comments to look through")
    start = 0
    for _ in range(LOOKUP_PAGES):
        query = f"startAt={start}&maxResults=100"
        url = f"{ref.site}/rest/api/3/issue/{quote(ref.ref)}/comment?{query}"
        status, headers, body = _request(settings, ref, "GET", url, None)
        if status != 200 or not isinstance(body, dict):
            return _outcome((status, headers, body))
        comments = body.get("comments") or []
        for comment in comments:
            if _last_line(comment.get("body")) == _jira_marker(mark):
                return Outcome("sent", str(comment.get("id")))
        start += len(comments)
        if not comments or start >= int(body.get("total") or 0):
            return Outcome("refused", error="absent")
    return Outcome("unclear", error="too many comments to look through")


def defuse_markdown(text: str) -> str:
    """`text` as GitHub shows it, with no mention (`@team`), issue link (`#12`) or HTML in it: a
    zero-width space after `@` and `#`, `<` as an entity."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("@", "@\u200b").replace("#", "#\u200b")


def _github_marker(mark: str) -> str:
    return f"<!-- {PROPERTY}:{mark} -->"


def _jira_marker(mark: str) -> str:
    return f"Throughline ref: {mark}"


def _last_line(doc: Any) -> str:
    """The text of an ADF document's last paragraph."""
    if not isinstance(doc, dict):
        return ""
    blocks = [b for b in doc.get("content") or [] if isinstance(b, dict)]
    if not blocks:
        return ""
    return "".join(str(n.get("text") or "") for n in blocks[-1].get("content") or [] if isinstance(n, dict))


def _request(
    settings: TrackerSettings, ref: Ref, method: str, url: str, payload: dict[str, Any] | None
) -> tuple[int, dict[str, str], Any]:
    """(status, headers in lower case, JSON body or None); status 0: no answer (it may have arrived)."""
    data = json.dumps(payload).encode() if payload is not None else None
    headers = {**auth_headers(settings, ref.tracker), "User-Agent": "Throughline"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=settings.tracker_timeout_seconds) as response:  # noqa: S310
            status, answer, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, answer, raw = error.code, error.headers, error.read()
    except (OSError, http.client.HTTPException) as exc:  # refused, reset, timed out, cut short
        log.info("%s %s: no answer (%s)", method, url, getattr(exc, "reason", exc))
        return 0, {}, None
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return status, {k.lower(): v for k, v in answer.items()}, body


def _outcome(result: tuple[int, dict[str, str], Any]) -> Outcome:
    status, headers, body = result
    if status in (200, 201) and isinstance(body, dict) and body.get("id") is not None:
        return Outcome("sent", str(body["id"]))
    secondary = status == 403 and ("retry-after" in headers or "rate limit" in _message(body).lower())
    if status == 429 or secondary or (status == 403 and headers.get("x-ratelimit-remaining") == "0"):
        after = headers.get("retry-after", "")
        return Outcome(
            "retry", wait=float(after) if after.isdigit() else 60.0, error=f"rate limited ({status})"
        )
    if status in (400, 401, 403, 404, 410, 422):
        return Outcome("refused", error=f"refused ({status}): {_message(body)}")
    return Outcome("unclear", error=f"no clear answer ({status or 'no answer'})")


def _message(body: Any) -> str:
    if isinstance(body, dict):
        messages = body.get("errorMessages") or [body.get("message")]
        text = "; ".join(str(m) for m in messages if m) or json.dumps(body.get("errors") or {})
        return text[:200]
    return ""
