"""Throughline in OAuth mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET, no SLACK_BOT_TOKEN), over
HTTP against the local Slack, and a browser that installs it: the install page, Slack's authorize
page (the local one: `team=` picks the workspace), the redirect back, with cookies kept as a
browser keeps them."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from bot.core import workspaces
from bot.localslack.workspaces import CLIENT_ID, CLIENT_SECRET
from storage.models import Health, Workspace
from tests import factories as f
from tests.conftest import START, Rig, make_settings
from tests.slackfake import FakeSlack


@dataclass
class Page:
    status: int
    html: str
    url: str

    @property
    def add_to_slack(self) -> str:
        found = re.search(r'id="add-to-slack" href="([^"]+)"', self.html)
        assert found, self.html
        return found.group(1).replace("&amp;", "&")


class _LoopbackIsSecure(http.cookiejar.DefaultCookiePolicy):
    """Browsers treat http://127.0.0.1 and localhost as a secure context and send it `Secure`
    cookies (bolt's state cookie is one); Python's cookie jar sends them over https only."""

    def return_ok_secure(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        host = urllib.parse.urlsplit(request.get_full_url()).hostname
        return host in ("127.0.0.1", "localhost") or super().return_ok_secure(cookie, request)


class Browser:
    """A browser: keeps cookies, follows redirects, reads pages."""

    def __init__(self) -> None:
        self.cookies = http.cookiejar.CookieJar(policy=_LoopbackIsSecure())
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, url: str) -> Page:
        try:
            with self.opener.open(url, timeout=10) as response:
                return Page(response.status, response.read().decode(), response.url)
        except urllib.error.HTTPError as error:
            with error:
                return Page(error.code, error.read().decode(), error.url)


def oauth_settings(fake: FakeSlack, database_url: str, **overrides: Any) -> Any:
    return make_settings(
        fake,
        database_url,
        slack_bot_token=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        **overrides,
    )


def start(fake: FakeSlack, database_url: str, clock: Any, **overrides: Any) -> Rig:
    rig = Rig(oauth_settings(fake, database_url, **overrides), fake, clock)
    fake.oauth.redirect_uri = rig.url + "/slack/oauth_redirect"  # as set in the app's OAuth settings
    return rig


def install(rig: Rig, team: str | None = None, *, enterprise: str | None = None, **extra: str) -> Page:
    """Install through the pages, as an admin does: the install page, Add to Slack, approve in
    Slack (the local Slack's `team`/`enterprise` stand for its workspace picker); the page shown."""
    browser = Browser()
    page = browser.get(rig.url + "/slack/install")
    assert page.status == 200 and "Add to Slack" in page.html
    params = {"enterprise": enterprise} if enterprise else {"team": team or rig.fake.team_id}
    params.update(extra)
    return browser.get(page.add_to_slack + "&" + urllib.parse.urlencode(params))


# -- a workspace with people, channels and work of its own --------------------------------------


def people(prefix: str) -> dict[str, str]:
    """The cast of one workspace: U<prefix>ALICE ..., channels C<prefix>TRIAGE ..."""
    return {
        "owner": f"U{prefix}ALICE",
        "waiter": f"U{prefix}BOB",
        "admin": f"U{prefix}ADMIN",
        "lead": f"U{prefix}LEAD",
        "gov": f"U{prefix}GOV",
        "triage": f"C{prefix}TRIAGE",
        "governance": f"C{prefix}GOVERN",
        "digest": f"C{prefix}DIGEST",
    }


def add_workspace(
    fake: FakeSlack, team: str, prefix: str, *, enterprise: str | None = None
) -> dict[str, str]:
    cast = people(prefix)
    fake.add_workspace(team, f"Team {prefix}", enterprise_id=enterprise)
    for role in ("owner", "waiter", "admin", "lead", "gov"):
        fake.add_user(cast[role], f"{role}{prefix.lower()}", tz="Europe/Berlin", team=team)
    for role in ("triage", "governance", "digest"):
        fake.add_channel(cast[role], f"{role}-{prefix.lower()}", team=team)
    return cast


def seed_work(rig: Rig, team: str, cast: dict[str, str], word: str) -> None:
    """The workspace's own settings (its admin saved them in the App Home) and its work: an
    initiative due for a check-in, blocked for long, that another initiative waits on."""
    with rig.db.session() as s:
        row = workspaces.ensure_workspace(s, team, START)
        row.settings = {
            "triage_channel": cast["triage"],
            "governance_channel": cast["governance"],
            "digest_channel": cast["digest"],
            "admins": [cast["admin"]],
            "triage_leads": [cast["lead"]],
            "governance_members": [cast["gov"]],
            "teams": {"Platform": cast["lead"]},
        }
        o1 = f.okr(s, "O1", now=START, team_id=team, title=f"{word} objective", owner_id=cast["lead"])
        active = f.initiative(
            s,
            o1,
            now=START,
            team_id=team,
            number=1,
            title=f"{word} active work",
            owner_id=cast["owner"],
            requester_id=cast["waiter"],
            health=Health.BLOCKED,
            health_since=START - timedelta(days=9),
            next_checkin_at=START,
        )
        waiter = f.initiative(
            s,
            o1,
            now=START,
            team_id=team,
            number=2,
            title=f"{word} waiting work",
            owner_id=cast["waiter"],
            requester_id=cast["owner"],
            next_checkin_at=START + timedelta(days=7),
        )
        f.dependency(
            s,
            waiter,
            active,
            now=START,
            team_id=team,
            what=f"{word} export",
            needed_by=date(2026, 2, 20),  # passed: the tick finds it stalled
        )


def calls_of(fake: FakeSlack, team: str, method: str = "chat.postMessage") -> list[Any]:
    """The calls of `method` made with one of `team`'s tokens."""
    tokens = set(fake.tokens_of(team))
    return [c for c in fake.calls_to(method) if c.token in tokens]


def workspace_row(rig: Rig, team: str) -> Workspace | None:
    import sqlalchemy as sa

    with rig.db.session() as s:
        row = s.scalar(sa.select(Workspace).where(Workspace.team_id == team))
        if row is not None:
            s.expunge(row)
        return row
