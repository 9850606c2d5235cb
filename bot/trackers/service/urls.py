"""What a pasted link points to, checked against the sites and repositories an admin set up."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from bot.core.errors import Invalid
from bot.core.integrations import TrackerSettings
from bot.trackers.models import URL_FIELD, Kind, Ref, Tracker

_JIRA_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,30}-[1-9][0-9]{0,9}$")
_GITHUB_PATH = re.compile(
    r"^/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+)/(issues|pull|milestone)/([1-9][0-9]{0,9})(/.*)?$"
)
_GITHUB_KIND = {"issues": Kind.ISSUE, "pull": Kind.PULL, "milestone": Kind.MILESTONE}
WHAT = "a Jira issue or epic, or a GitHub issue, pull request or milestone"
MAX_URL = 2000


def parse(text: str, settings: TrackerSettings) -> Ref:
    """The item `text` (a URL) points to. Raises Invalid (on URL_FIELD) saying what is wrong: not a
    link, no tracker set up, a site or repository not set up, or not an item's address."""
    url = (text or "").strip().strip("<>").split("|")[0]  # Slack wraps pasted links: <url|text>
    if not settings.trackers_on:
        raise Invalid(
            "No tracker is set up here: an admin adds THROUGHLINE_JIRA_SITES or THROUGHLINE_GITHUB_REPOS "
            "(see docs/trackers.md). Nothing was linked.",
            URL_FIELD,
        )
    parts = urlsplit(url) if len(url) <= MAX_URL else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"That isn't a link: paste the address of {WHAT}.", URL_FIELD)
    base = f"{parts.scheme}://{parts.netloc}".lower()
    site = settings.jira_site(base)
    if site is not None:
        return _jira(site, parts.path, parts.query)
    if base == settings.github_url.lower():
        return _github(parts.path, settings)
    known = [*settings.jira_sites, *(f"{settings.github_url}/{r}" for r in settings.github_repos)]
    raise Invalid(
        f"{parts.hostname} is not a tracker Throughline is set up for. It knows: {', '.join(known)}. "
        "An admin can add a Jira site to THROUGHLINE_JIRA_SITES.",
        URL_FIELD,
    )


def _jira(site: str, path: str, query: str) -> Ref:
    key = ""
    if path.startswith("/browse/"):
        key = path.removeprefix("/browse/").strip("/")
    else:  # a board or a list with the issue open beside it
        key = (parse_qs(query).get("selectedIssue") or [""])[0]
    if not _JIRA_KEY.match(key.upper()):
        raise Invalid(
            f"That Jira link names no issue: use the issue's address, like {site}/browse/PAY-12.", URL_FIELD
        )
    return Ref(Tracker.JIRA, Kind.ISSUE, site, key.upper())


def _github(path: str, settings: TrackerSettings) -> Ref:
    found = _GITHUB_PATH.match(path)
    if not found:
        raise Invalid(
            f"That GitHub link names no issue, pull request or milestone: use an address like "
            f"{settings.github_url}/acme/web/issues/12.",
            URL_FIELD,
        )
    owner, name, kind, number = found.group(1, 2, 3, 4)
    repo = f"{owner}/{name}".lower()
    if not settings.github_repo_allowed(repo):
        raise Invalid(
            f"{owner}/{name} is not a repository Throughline is set up for; an admin can add it to "
            "THROUGHLINE_GITHUB_REPOS.",
            URL_FIELD,
        )
    return Ref(Tracker.GITHUB, _GITHUB_KIND[kind], repo, number)


def web_url(ref: Ref, settings: TrackerSettings) -> str:
    """The item's page, as a person opens it."""
    if ref.tracker is Tracker.JIRA:
        return f"{ref.site}/browse/{ref.ref}"
    segment = {Kind.PULL: "pull", Kind.MILESTONE: "milestone"}.get(ref.kind, "issues")
    return f"{settings.github_url}/{ref.site}/{segment}/{ref.ref}"
