"""A local Jira Cloud site: the REST v3 answers Throughline reads and the webhooks an admin webhook
with a secret sends.

REST (https://developer.atlassian.com/cloud/jira/platform/rest/v3/):
- `GET /rest/api/3/issue/{issueIdOrKey}?fields=…`: the issue with its `fields` (`summary`, `status`
  with its `statusCategory`, `assignee`, `issuetype`, `parent`, `updated`); 404 with
  `errorMessages` when it does not exist; 401 without the account's email and API token (Basic).
- `GET /rest/api/3/search/jql?jql=parent = KEY&fields=…&maxResults=…&nextPageToken=…`: the enhanced
  search, paged by token (`issues`, `isLast`, `nextPageToken`). Only `parent = KEY` is understood.
- Rate limiting answers 429 with `Retry-After` (seconds): `fail_next(429, Retry_After="30")`
  (https://developer.atlassian.com/cloud/jira/platform/rate-limiting/).
- Comments (https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-comments/):
  `POST /rest/api/3/issue/{key}/comment` with an ADF `body` and optional entity `properties`
  answers 201 with the comment; `GET` the same path pages them (`startAt`, `maxResults` at most
  100, `total`, `comments`), without their properties (its `expand` takes only `renderedBody`).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.localtrackers.loopback import Answer, Loopback
from bot.localtrackers.webhooks import Delivery, encode, signature

EMAIL = "throughline@example.com"
API_TOKEN = "fake-jira-api-token"  # noqa: S105  (loopback only)
CATEGORIES = {"new": "To Do", "indeterminate": "In Progress", "done": "Done"}
STATUS_CATEGORY = {"To Do": "new", "Backlog": "new", "Done": "done", "Closed": "done", "Won't Do": "done"}
_PARENT = re.compile(r"^\s*parent\s*=\s*\"?([A-Z][A-Z0-9_]*-\d+)\"?\s*$", re.IGNORECASE)


@dataclass
class Issue:
    key: str
    id: str
    summary: str
    status: str = "To Do"
    assignee: str | None = None  # display name
    issuetype: str = "Task"
    parent: str | None = None
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def category(self) -> str:
        return STATUS_CATEGORY.get(self.status, "indeterminate")


class LocalJira(Loopback):
    """`LocalJira().start()`; `url` is the site's base URL (THROUGHLINE_JIRA_SITES)."""

    name = "jira"

    def __init__(self, email: str = EMAIL, api_token: str = API_TOKEN) -> None:
        super().__init__()
        self.email, self.api_token = email, api_token
        self.page_size = 50  # the most `search/jql` returns per page, whatever maxResults asks
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.issues: dict[str, Issue] = {}
            self.subscribers: list[tuple[str, str]] = []
            self.sent: list[Delivery] = []
            self.answers: list[tuple[int, str]] = []  # what the receiver answered each, in order
            self._ids = itertools.count(10001)
            self._deliveries = itertools.count(1)
            self._comment_ids = itertools.count(70001)
            self.comments: dict[str, list[dict[str, Any]]] = {}
            self._stamp = datetime.now(UTC).replace(microsecond=0)
            self.reset_calls()

    # -- the site ----------------------------------------------------------------------------------

    def add_issue(self, key: str, summary: str = "", **fields: Any) -> Issue:
        with self._lock:
            issue = Issue(key, str(next(self._ids)), summary or key, updated=self.stamp(), **fields)
            self.issues[key] = issue
            return issue

    def subscribe(self, url: str, secret: str) -> None:
        """Register an admin webhook with a secret: every change below is sent to `url`."""
        self.subscribers.append((url, secret))

    def move(self, key: str, status: str | None = None, *, notify: bool = True, **fields: Any) -> None:
        """Change an issue (its status, assignee, …) as a person would; subscribers are told
        unless `notify` is off (a webhook Jira failed to deliver)."""
        with self._lock:
            issue = self.issues[key]
            before = issue.status
            if status is not None:
                issue.status = status
            for name, value in fields.items():
                setattr(issue, name, value)
            issue.updated = self.stamp()
            items = [{"field": "status", "fromString": before, "toString": issue.status}] if status else []
        if notify:
            self.notify("jira:issue_updated", key, items)

    def delete(self, key: str, *, notify: bool = True) -> None:
        with self._lock:
            payload_issue = self.issue_json(self.issues[key])
            del self.issues[key]
        if notify:
            for url, secret in self.subscribers:
                self._send(self.webhook(url, secret, "jira:issue_deleted", payload_issue, []))

    def notify(self, event: str, key: str, items: list[dict[str, Any]]) -> None:
        for url, secret in self.subscribers:
            self._send(self.webhook(url, secret, event, self.issue_json(self.issues[key]), items))

    def webhook(
        self, url: str, secret: str, event: str, issue: dict[str, Any], items: list[dict[str, Any]]
    ) -> Delivery:
        """The delivery Jira makes for `event` about `issue` (not sent)."""
        body = encode(
            {
                "timestamp": int(time.time() * 1000),
                "webhookEvent": event,
                "issue_event_type_name": "issue_generic",
                "issue": issue,
                "changelog": {"id": str(next(self._ids)), "items": items},
            }
        )
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "X-Atlassian-Webhook-Identifier": f"{next(self._deliveries)}-{int(time.time() * 1000)}",
            "X-Atlassian-Webhook-Flow": "Primary",
            "X-Hub-Signature": signature(secret, body),
            "User-Agent": "Atlassian Webhook HTTP Client",
        }
        return Delivery(url, body, headers)

    def _send(self, delivery: Delivery) -> None:
        self.sent.append(delivery)
        self.answers.append(delivery.send())

    def stamp(self) -> datetime:
        """The wall clock to the second, a second past the last stamp at least: changes are ordered."""
        now = datetime.now(UTC).replace(microsecond=0)
        self._stamp = max(now, self._stamp + timedelta(seconds=1))
        return self._stamp

    # -- REST --------------------------------------------------------------------------------------

    def issue_json(self, issue: Issue, wanted: set[str] | None = None) -> dict[str, Any]:
        category = issue.category
        fields: dict[str, Any] = {
            "summary": issue.summary,
            "status": {
                "name": issue.status,
                "statusCategory": {"key": category, "name": CATEGORIES[category]},
            },
            "assignee": (
                {"accountId": f"acc-{issue.assignee.lower()}", "displayName": issue.assignee, "active": True}
                if issue.assignee
                else None
            ),
            "issuetype": {
                "name": issue.issuetype,
                "subtask": False,
                "hierarchyLevel": 1 if issue.issuetype == "Epic" else 0,
            },
            "updated": issue.updated.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
        }
        if issue.parent:
            fields["parent"] = {"key": issue.parent, "id": self.issues[issue.parent].id}
        if wanted and "*all" not in wanted:
            fields = {k: v for k, v in fields.items() if k in wanted}
        return {
            "id": issue.id,
            "key": issue.key,
            "self": f"{self.url}/rest/api/3/issue/{issue.id}",
            "fields": fields,
        }

    def route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes = b""
    ) -> Answer:
        expected = "Basic " + base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
        if headers.get("authorization") != expected:
            return Answer(401, {"errorMessages": ["You are not authenticated. Authentication required."]})
        wanted = {f.strip() for f in ",".join(query.get("fields", [])).split(",") if f.strip()} or None
        if path.startswith("/rest/api/3/issue/") and path.endswith("/comment"):
            return self._comments(
                method, path.removeprefix("/rest/api/3/issue/").removesuffix("/comment"), query, body
            )
        if method == "GET" and path.startswith("/rest/api/3/issue/"):
            ref = path.removeprefix("/rest/api/3/issue/")
            issue = self.issues.get(ref) or next((i for i in self.issues.values() if i.id == ref), None)
            if issue is None:
                return Answer(
                    404,
                    {
                        "errorMessages": ["Issue does not exist or you do not have permission to see it."],
                        "errors": {},
                    },
                )
            return Answer(200, self.issue_json(issue, wanted))
        if method == "GET" and path == "/rest/api/3/search/jql":
            return self._search(query, wanted)
        return Answer(404, {"errorMessages": [f"No such resource: {method} {path}"], "errors": {}})

    def comments_on(self, key: str) -> list[str]:
        """The plain text of an issue's comments (their ADF paragraphs' text), oldest first."""
        with self._lock:
            return [_adf_text(c["body"]) for c in self.comments.get(key, [])]

    def _comments(self, method: str, ref: str, query: dict[str, list[str]], body: bytes) -> Answer:
        issue = self.issues.get(ref) or next((i for i in self.issues.values() if i.id == ref), None)
        if issue is None:
            return Answer(
                404,
                {
                    "errorMessages": ["Issue does not exist or you do not have permission to see it."],
                    "errors": {},
                },
            )
        stored = self.comments.setdefault(issue.key, [])
        if method == "POST":
            try:
                sent = json.loads(body or b"{}")
            except ValueError:
                sent = None
            doc = sent.get("body") if isinstance(sent, dict) else None
            if not isinstance(doc, dict) or doc.get("type") != "doc":
                return Answer(
                    400, {"errorMessages": [], "errors": {"comment": "Comment body can not be empty!"}}
                )
            comment_id = str(next(self._comment_ids))
            comment = {
                "id": comment_id,
                "self": f"{self.url}/rest/api/3/issue/{issue.id}/comment/{comment_id}",
                "body": doc,
                "author": {"displayName": "Throughline", "accountType": "app"},
                "created": self.stamp().isoformat(timespec="milliseconds"),
                "properties": list(sent.get("properties") or []),
            }
            stored.append(comment)
            return Answer(201, {k: v for k, v in comment.items() if k != "properties"})
        if method != "GET":
            return Answer(405, {"errorMessages": [f"{method} is not allowed here"], "errors": {}})
        start = max(0, int((query.get("startAt") or ["0"])[0]))
        size = max(1, min(int((query.get("maxResults") or ["100"])[0]), 100))
        page = [{k: v for k, v in c.items() if k != "properties"} for c in stored[start : start + size]]
        return Answer(200, {"startAt": start, "maxResults": size, "total": len(stored), "comments": page})

    def _search(self, query: dict[str, list[str]], wanted: set[str] | None) -> Answer:
        jql = (query.get("jql") or [""])[0]
        found = _PARENT.match(jql)
        if not found:
            return Answer(
                400, {"errorMessages": [f"The local Jira only understands 'parent = KEY': {jql!r}"]}
            )
        children = sorted(
            (i for i in self.issues.values() if i.parent == found.group(1)), key=lambda i: int(i.id)
        )
        size = min(int((query.get("maxResults") or ["50"])[0]), self.page_size)
        start = int((query.get("nextPageToken") or ["0"])[0])
        page = children[start : start + size]
        body: dict[str, Any] = {"issues": [self.issue_json(i, wanted) for i in page]}
        if start + size < len(children):
            body["nextPageToken"] = str(start + size)
            body["isLast"] = False
        else:
            body["isLast"] = True
        return Answer(200, body)


def _adf_text(doc: dict[str, Any]) -> str:
    """The text of an Atlassian Document Format document, paragraph by paragraph."""
    lines = []
    for block in doc.get("content") or []:
        lines.append("".join(str(n.get("text") or "") for n in block.get("content") or []))
    return "\n".join(lines)
