"""The local Jira and GitHub answer as the vendors document, and sign their webhooks as they do."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

from bot.localtrackers import github as gh
from bot.localtrackers import jira as jr
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira

JIRA_AUTH = "Basic " + base64.b64encode(f"{jr.EMAIL}:{jr.API_TOKEN}".encode()).decode()


def get(url: str, auth: str) -> tuple[int, Any, dict[str, str]]:
    try:
        with urlopen(Request(url, headers={"Authorization": auth}), timeout=5) as response:
            return response.status, json.loads(response.read()), dict(response.headers)
    except HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


class Receiver:
    """A webhook endpoint that records what it got."""

    def __init__(self) -> None:
        self.got: list[tuple[dict[str, str], bytes]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                owner.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_jira_issue_answers_with_status_assignee_and_type(jira: LocalJira) -> None:
    jira.add_issue("PAY-1", "Epic", issuetype="Epic")
    jira.add_issue("PAY-2", "Child", status="In Progress", assignee="Ana", parent="PAY-1")
    status, body, _ = get(f"{jira.url}/rest/api/3/issue/PAY-2?fields=status,assignee,issuetype", JIRA_AUTH)
    assert status == 200 and body["key"] == "PAY-2"
    assert set(body["fields"]) == {"status", "assignee", "issuetype"}
    assert body["fields"]["status"] == {
        "name": "In Progress",
        "statusCategory": {"key": "indeterminate", "name": "In Progress"},
    }
    assert body["fields"]["assignee"]["displayName"] == "Ana"
    status, body, _ = get(f"{jira.url}/rest/api/3/issue/PAY-9", JIRA_AUTH)
    assert status == 404 and body["errorMessages"]
    assert get(f"{jira.url}/rest/api/3/issue/PAY-2", "Basic bm9ib2R5Ong=")[0] == 401


def test_jira_search_pages_an_epics_children_by_token(jira: LocalJira) -> None:
    jira.add_issue("PAY-1", issuetype="Epic")
    for n in range(2, 7):
        jira.add_issue(f"PAY-{n}", parent="PAY-1", status="Done" if n % 2 else "To Do")
    keys, token = [], ""
    for _ in range(5):
        url = f"{jira.url}/rest/api/3/search/jql?jql=parent%20%3D%20PAY-1&fields=status&maxResults=2"
        status, body, _ = get(url + (f"&nextPageToken={token}" if token else ""), JIRA_AUTH)
        assert status == 200
        keys += [i["key"] for i in body["issues"]]
        if body["isLast"]:
            break
        token = body["nextPageToken"]
    assert keys == ["PAY-2", "PAY-3", "PAY-4", "PAY-5", "PAY-6"]


def test_jira_webhooks_are_signed_with_the_secret_and_carry_a_delivery_id(jira: LocalJira) -> None:
    receiver = Receiver()
    jira.add_issue("PAY-2")
    jira.subscribe(receiver.url, "s3cret")
    jira.move("PAY-2", "Done")
    jira.move("PAY-2", "In Progress", notify=False)
    ((headers, body),) = receiver.got
    assert headers["x-hub-signature"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-atlassian-webhook-identifier"]
    payload = json.loads(body)
    assert payload["webhookEvent"] == "jira:issue_updated"
    assert payload["issue"]["fields"]["status"]["statusCategory"]["key"] == "done"
    assert payload["changelog"]["items"] == [{"field": "status", "fromString": "To Do", "toString": "Done"}]


def test_github_issue_pull_and_milestone(github: LocalGitHub) -> None:
    auth = f"Bearer {gh.TOKEN}"
    milestone = github.add_milestone("acme/web", "v2")
    github.add_issue("acme/web", "Bug", milestone=milestone.number, assignee="ana")
    github.add_issue("acme/web", "Fix", pull=True, milestone=milestone.number)
    github.change("acme/web", 2, merged=True, notify=False)
    status, issue, headers = get(f"{github.url}/repos/acme/web/issues/1", auth)
    assert status == 200 and issue["state"] == "open" and issue["assignee"]["login"] == "ana"
    assert headers["x-ratelimit-remaining"] == "4999"
    status, pull, _ = get(f"{github.url}/repos/acme/web/pulls/2", auth)
    assert status == 200 and pull["merged"] is True and pull["state"] == "closed"
    status, ms, _ = get(f"{github.url}/repos/acme/web/milestones/1", auth)
    assert (ms["open_issues"], ms["closed_issues"]) == (1, 1)
    assert get(f"{github.url}/repos/acme/web/pulls/1", auth)[0] == 404  # an issue, not a pull request
    assert get(f"{github.url}/repos/acme/web/issues/1", "Bearer wrong")[1]["message"] == "Bad credentials"


def test_github_refuses_with_403_when_the_rate_limit_is_spent(github: LocalGitHub) -> None:
    github.add_issue("acme/web")
    github.clock = lambda: 1_000_000.0
    github.remaining = 1
    auth = f"token {gh.TOKEN}"
    assert get(f"{github.url}/repos/acme/web/issues/1", auth)[0] == 200
    status, body, headers = get(f"{github.url}/repos/acme/web/issues/1", auth)
    assert "rate limit exceeded" in body["message"]
    assert status == 403 and headers["x-ratelimit-remaining"] == "0"
    assert headers["x-ratelimit-reset"] == str(1_000_000 + 3600)


def test_github_webhooks_are_signed_with_sha256_and_a_delivery_guid(github: LocalGitHub) -> None:
    receiver = Receiver()
    github.add_issue("acme/web", "Bug")
    github.subscribe(receiver.url, "s3cret")
    github.change("acme/web", 1, state="closed")
    ((headers, body),) = receiver.got
    assert headers["x-hub-signature-256"] == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert headers["x-github-event"] == "issues" and len(headers["x-github-delivery"]) == 36
    payload = json.loads(body)
    assert payload["action"] == "closed" and payload["issue"]["state"] == "closed"
    assert payload["repository"]["full_name"] == "acme/web"
