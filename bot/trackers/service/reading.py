"""The trackers' JSON, read into `Item`s: the same for a REST answer and a webhook's payload (both
vendors send the REST shape of the object in their webhooks). Raises ValueError on a shape that
is not theirs."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from bot.trackers.models import Item, Kind, Ref, Tracker


def _obj(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    return value


def _text(value: Any, limit: int = 300) -> str:
    return str(value)[:limit] if value is not None else ""


def _when(value: Any) -> datetime | None:
    """Jira's `2026-03-02T09:00:00.000+0000` or GitHub's `2026-03-02T09:00:00Z`."""
    if not value:
        return None
    text = str(value).replace("Z", "+00:00")
    if len(text) > 5 and text[-5] in "+-" and text[-3] != ":":  # +0000 -> +00:00
        text = f"{text[:-2]}:{text[-2:]}"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def jira_site_of(issue: dict[str, Any]) -> str:
    """The site an issue is on, from its `self` link (https://acme.atlassian.net/rest/api/3/issue/…)."""
    parts = urlsplit(_text(_obj(issue).get("self"), 2000))
    if not parts.scheme or not parts.netloc:
        raise ValueError("the issue has no `self` link")
    return f"{parts.scheme}://{parts.netloc}".lower()


def jira_item(site: str, issue: dict[str, Any], counts: tuple[int, int] | None = None) -> Item:
    """A Jira issue (REST v3 shape); `counts` is an epic's (done, total) children."""
    fields = _obj(_obj(issue).get("fields"))
    key = _text(issue.get("key"), 40).upper()
    if not key:
        raise ValueError("the issue has no key")
    status = _obj(fields.get("status"))
    issuetype = _obj(fields.get("issuetype"))
    epic = issuetype.get("hierarchyLevel") == 1 or _text(issuetype.get("name")).lower() == "epic"
    assignee = _obj(fields.get("assignee"))
    parent = _obj(fields.get("parent")).get("key")
    return Item(
        ref=Ref(Tracker.JIRA, Kind.EPIC if epic else Kind.ISSUE, site, key),
        url=f"{site}/browse/{key}",
        title=_text(fields.get("summary")),
        status=_text(status.get("name"), 60),
        done=_obj(status.get("statusCategory")).get("key") == "done",
        assignee=_text(assignee.get("displayName"), 100) or None,
        updated_at=_when(fields.get("updated")),
        done_count=counts[0] if counts else None,
        total_count=counts[1] if counts else None,
        parent=_text(parent, 40).upper() if parent else None,
    )


def jira_done(issue: dict[str, Any]) -> bool:
    """Whether an epic's child counts as done (its status is in the Done category)."""
    status = _obj(_obj(_obj(issue).get("fields")).get("status"))
    return _obj(status.get("statusCategory")).get("key") == "done"


def github_item(repo: str, data: dict[str, Any], kind: Kind) -> Item:
    """A GitHub issue, pull request or milestone (REST shape). An issue that is a pull request
    (it has `pull_request`) is read as one."""
    data = _obj(data)
    number = data.get("number")
    if not isinstance(number, int):
        raise ValueError("the item has no number")
    state = _text(data.get("state"), 20)
    assignee = _text(_obj(data.get("assignee")).get("login"), 100) or None
    updated = _when(data.get("updated_at"))
    url = _text(data.get("html_url"), 2000)
    if kind is Kind.MILESTONE:
        closed, still_open = int(data.get("closed_issues") or 0), int(data.get("open_issues") or 0)
        return Item(
            Ref(Tracker.GITHUB, Kind.MILESTONE, repo, str(number)),
            url,
            _text(data.get("title")),
            state,
            state == "closed",
            None,
            updated,
            done_count=closed,
            total_count=closed + still_open,
        )
    is_pull = kind is Kind.PULL or "pull_request" in data
    if is_pull:
        merged = bool(data.get("merged")) or bool(_obj(data.get("pull_request")).get("merged_at"))
        status = "merged" if merged else ("draft" if data.get("draft") and state == "open" else state)
        done = merged
    else:
        status, done = state, state == "closed"
        if state == "closed" and data.get("state_reason") == "not_planned":
            status = "closed as not planned"
    return Item(
        Ref(Tracker.GITHUB, Kind.PULL if is_pull else Kind.ISSUE, repo, str(number)),
        url,
        _text(data.get("title")),
        status,
        done,
        assignee,
        updated,
    )


def github_repo_of(payload: dict[str, Any]) -> str:
    name = _text(_obj(_obj(payload).get("repository")).get("full_name"), 200).lower()
    if "/" not in name:
        raise ValueError("the payload names no repository")
    return name
