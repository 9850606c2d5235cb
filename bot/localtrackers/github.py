"""A local GitHub: the REST answers Throughline reads and the webhooks a repository webhook sends.

REST (https://docs.github.com/en/rest):
- `GET /repos/{owner}/{repo}/issues/{n}` (a pull request is an issue too, with `pull_request`),
  `GET /repos/{owner}/{repo}/pulls/{n}` (`merged`, `merged_at`, `draft`),
  `GET /repos/{owner}/{repo}/milestones/{n}` (`open_issues`, `closed_issues`); 404
  `{"message": "Not Found"}`; 401 `{"message": "Bad credentials"}` for a wrong token.
- Every answer carries `x-ratelimit-limit/-remaining/-used/-reset/-resource`; with none left it
  answers 403 with `x-ratelimit-remaining: 0` until `x-ratelimit-reset` (epoch seconds, on `clock`)
  (https://docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api). A secondary
  limit is `fail_next(429, Retry_After="60")`.
- Issue comments (an issue's or a pull request's,
  https://docs.github.com/en/rest/issues/comments): `POST /repos/{owner}/{repo}/issues/{n}/comments`
  with `{"body": …}` answers 201 with the comment; `GET` the same path lists them, oldest first,
  `per_page` (default 30, at most 100) a `page`, with a `Link: <…>; rel="next"` header while more.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.localtrackers.loopback import Answer, Loopback
from bot.localtrackers.webhooks import Delivery, encode, signature

TOKEN = "ghp_fakeLocalGitHubToken0000000000000000"  # noqa: S105  (loopback only)
WEB = "https://github.com"
NOT_FOUND = {"message": "Not Found", "documentation_url": "https://docs.github.com/rest", "status": "404"}


@dataclass
class Issue:
    number: int
    title: str
    state: str = "open"  # open | closed
    assignee: str | None = None  # login
    milestone: int | None = None
    pull: bool = False
    draft: bool = False
    merged: bool = False
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Milestone:
    number: int
    title: str
    state: str = "open"
    updated: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Repo:
    full_name: str
    issues: dict[int, Issue] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)


class LocalGitHub(Loopback):
    """`LocalGitHub().start()`; `url` is the REST API's base URL (THROUGHLINE_GITHUB_API_URL)."""

    name = "github"

    def __init__(self, token: str = TOKEN) -> None:
        super().__init__()
        self.token = token
        self.clock: Callable[[], float] = time.time  # what x-ratelimit-reset is counted on
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.repos: dict[str, Repo] = {}
            self.subscribers: list[tuple[str, str]] = []
            self.sent: list[Delivery] = []
            self.answers: list[tuple[int, str]] = []  # what the receiver answered each, in order
            self.limit = 5000
            self.remaining = 5000
            self.reset_at: float | None = None
            self._ids = itertools.count(1)
            self._comment_ids = itertools.count(900001)
            self.comments: dict[tuple[str, int], list[dict[str, Any]]] = {}
            self._stamp = datetime.now(UTC).replace(microsecond=0)
            self.clock = time.time
            self.reset_calls()

    # -- the repositories ----------------------------------------------------------------------------

    def repo(self, full_name: str) -> Repo:
        with self._lock:
            return self.repos.setdefault(full_name.lower(), Repo(full_name))

    def add_issue(self, full_name: str, title: str = "", **fields: Any) -> Issue:
        with self._lock:
            repo = self.repo(full_name)
            number = len(repo.issues) + 1
            issue = Issue(number, title or f"#{number}", updated=self.stamp(), **fields)
            repo.issues[number] = issue
            return issue

    def add_milestone(self, full_name: str, title: str) -> Milestone:
        with self._lock:
            repo = self.repo(full_name)
            number = len(repo.milestones) + 1
            repo.milestones[number] = Milestone(number, title, updated=self.stamp())
            return repo.milestones[number]

    def subscribe(self, url: str, secret: str) -> None:
        """A repository webhook with a secret (every repository here): changes are sent to `url`."""
        self.subscribers.append((url, secret))

    def change(self, full_name: str, number: int, *, notify: bool = True, **fields: Any) -> None:
        """Change an issue or pull request (`state="closed"`, `merged=True`, `assignee=…`); the
        subscribers get the `issues` or `pull_request` event unless `notify` is off."""
        with self._lock:
            repo = self.repo(full_name)
            issue = repo.issues[number]
            for name, value in fields.items():
                setattr(issue, name, value)
            if issue.merged:
                issue.state = "closed"
            issue.updated = self.stamp()
            if issue.milestone:
                repo.milestones[issue.milestone].updated = issue.updated
            action = "closed" if fields.get("state") == "closed" or fields.get("merged") else "edited"
            if issue.pull:
                event, payload = (
                    "pull_request",
                    {"number": number, "pull_request": self.pull_json(repo, issue)},
                )
            else:
                event, payload = "issues", {"issue": self.issue_json(repo, issue)}
        if notify:
            self.notify(event, {"action": action, **payload, "repository": _repository(repo)})

    def notify(self, event: str, payload: dict[str, Any]) -> None:
        for url, secret in self.subscribers:
            delivery = self.webhook(url, secret, event, payload)
            self.sent.append(delivery)
            self.answers.append(delivery.send())

    def webhook(self, url: str, secret: str, event: str, payload: dict[str, Any]) -> Delivery:
        """The delivery GitHub makes for `event` (not sent)."""
        body = encode({**payload, "sender": {"login": "octocat", "type": "User"}})
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "GitHub-Hookshot/7f3a2b1",
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-GitHub-Hook-ID": "1",
            "X-Hub-Signature-256": signature(secret, body),
        }
        return Delivery(url, body, headers)

    def stamp(self) -> datetime:
        now = datetime.now(UTC).replace(microsecond=0)
        self._stamp = max(now, self._stamp + timedelta(seconds=1))
        return self._stamp

    # -- REST ----------------------------------------------------------------------------------------

    def issue_json(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        kind = "pull" if issue.pull else "issues"
        body: dict[str, Any] = {
            "id": 1000 + issue.number,
            "number": issue.number,
            "title": issue.title,
            "state": issue.state,
            "state_reason": "completed" if issue.state == "closed" else None,
            "html_url": f"{WEB}/{repo.full_name}/{kind}/{issue.number}",
            "user": {"login": "octocat"},
            "assignee": {"login": issue.assignee} if issue.assignee else None,
            "assignees": [{"login": issue.assignee}] if issue.assignee else [],
            "milestone": self.milestone_json(repo, repo.milestones[issue.milestone])
            if issue.milestone
            else None,
            "updated_at": _iso(issue.updated),
            "closed_at": _iso(issue.updated) if issue.state == "closed" else None,
        }
        if issue.pull:
            body["pull_request"] = {
                "html_url": f"{WEB}/{repo.full_name}/pull/{issue.number}",
                "merged_at": _iso(issue.updated) if issue.merged else None,
            }
            body["draft"] = issue.draft
        return body

    def pull_json(self, repo: Repo, issue: Issue) -> dict[str, Any]:
        body = self.issue_json(repo, issue)
        del body["pull_request"], body["state_reason"]
        return {**body, "merged": issue.merged, "merged_at": _iso(issue.updated) if issue.merged else None}

    def milestone_json(self, repo: Repo, milestone: Milestone) -> dict[str, Any]:
        issues = [i for i in repo.issues.values() if i.milestone == milestone.number]
        return {
            "id": 5000 + milestone.number,
            "number": milestone.number,
            "title": milestone.title,
            "state": milestone.state,
            "html_url": f"{WEB}/{repo.full_name}/milestone/{milestone.number}",
            "open_issues": sum(1 for i in issues if i.state == "open"),
            "closed_issues": sum(1 for i in issues if i.state == "closed"),
            "updated_at": _iso(milestone.updated),
            "due_on": None,
        }

    def route(
        self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], body: bytes = b""
    ) -> Answer:
        auth = headers.get("authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return Answer(
                401, {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}
            )
        now = self.clock()
        if self.reset_at is None:
            self.reset_at = now + 3600
        elif now >= self.reset_at:  # a new hour's window
            self.reset_at, self.remaining = now + 3600, self.limit
        limits = {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-reset": str(int(self.reset_at)),
            "x-ratelimit-resource": "core",
        }
        if self.remaining <= 0:
            limited = {
                "message": "API rate limit exceeded for user ID 1.",
                "documentation_url": "https://docs.github.com/rest",
            }
            return Answer(
                403, limited, {**limits, "x-ratelimit-remaining": "0", "x-ratelimit-used": str(self.limit)}
            )
        self.remaining -= 1
        limits.update(
            {
                "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-used": str(self.limit - self.remaining),
            }
        )
        parts = path.strip("/").split("/")
        if len(parts) == 6 and parts[0] == "repos" and parts[3] == "issues" and parts[5] == "comments":
            answer = self._comments(method, parts, query, body)
        else:
            answer = self._resource(method, path)
        answer.headers.update(limits)
        return answer

    def comments_on(self, full_name: str, number: int) -> list[str]:
        """The bodies of an issue's comments, oldest first."""
        with self._lock:
            return [c["body"] for c in self.comments.get((full_name.lower(), number), [])]

    def _comments(self, method: str, parts: list[str], query: dict[str, list[str]], body: bytes) -> Answer:
        repo = self.repos.get(f"{parts[1]}/{parts[2]}".lower())
        number = int(parts[4]) if parts[4].isdigit() else 0
        if repo is None or number not in repo.issues:
            return Answer(404, dict(NOT_FOUND))
        stored = self.comments.setdefault((repo.full_name.lower(), number), [])
        if method == "POST":
            try:
                text = json.loads(body or b"{}").get("body")
            except ValueError:
                text = None
            if not isinstance(text, str) or not text:
                return Answer(
                    422, {"message": "Validation Failed", "errors": [{"field": "body", "code": "missing"}]}
                )
            comment_id = next(self._comment_ids)
            comment = {
                "id": comment_id,
                "body": text,
                "html_url": f"{WEB}/{repo.full_name}/issues/{number}#issuecomment-{comment_id}",
                "user": {"login": "throughline[bot]"},
                "created_at": _iso(self.stamp()),
            }
            stored.append(comment)
            return Answer(201, comment)
        if method != "GET":
            return Answer(404, dict(NOT_FOUND))
        size = max(1, min(int((query.get("per_page") or ["30"])[0]), 100))
        page = max(1, int((query.get("page") or ["1"])[0]))
        shown = stored[(page - 1) * size : page * size]
        headers = {}
        if page * size < len(stored):
            nxt = (
                f"{self.url}/repos/{repo.full_name}/issues/{number}/comments?per_page={size}&page={page + 1}"
            )
            headers["Link"] = f'<{nxt}>; rel="next"'
        return Answer(200, shown, headers)

    def _resource(self, method: str, path: str) -> Answer:
        parts = path.strip("/").split("/")
        if method != "GET" or len(parts) != 5 or parts[0] != "repos" or not parts[4].isdigit():
            return Answer(404, dict(NOT_FOUND))
        repo = self.repos.get(f"{parts[1]}/{parts[2]}".lower())
        kind, number = parts[3], int(parts[4])
        if repo is None:
            return Answer(404, dict(NOT_FOUND))
        if kind == "milestones" and number in repo.milestones:
            return Answer(200, self.milestone_json(repo, repo.milestones[number]))
        issue = repo.issues.get(number)
        if kind == "issues" and issue is not None:
            return Answer(200, self.issue_json(repo, issue))
        if kind == "pulls" and issue is not None and issue.pull:
            return Answer(200, self.pull_json(repo, issue))
        return Answer(404, dict(NOT_FOUND))


def _repository(repo: Repo) -> dict[str, Any]:
    owner, _, name = repo.full_name.partition("/")
    return {"full_name": repo.full_name, "name": name, "owner": {"login": owner}}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
