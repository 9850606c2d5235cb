"""The install pages say plainly what happened: installed, or why not (a denied install, a forged
or expired state, a link opened in another browser); a client id without its secret stops the
start in one line."""

from __future__ import annotations

import urllib.parse
import urllib.request
from datetime import datetime

import sqlalchemy as sa

from bot.core.config import ConfigError, load_settings
from storage.integrations import SLACK_BOTS, SLACK_OAUTH_STATES
from tests.conftest import Rig
from tests.oauth_rig import Browser, install
from tests.slackfake import FakeSlack


def test_the_install_page_leads_to_slack_and_back_to_a_success_page(oauth_rig: Rig, fake: FakeSlack) -> None:
    page = Browser().get(oauth_rig.url + "/slack/install")
    link = urllib.parse.urlsplit(page.add_to_slack)
    query = urllib.parse.parse_qs(link.query)
    assert link.path == "/oauth/v2/authorize" and query["client_id"] == ["1111.2222"]
    assert "chat:write" in query["scope"][0].split(",")

    done = install(oauth_rig, "T0FAKE")

    assert done.status == 200 and "Throughline is installed" in done.html and "Fake Co" in done.html
    with oauth_rig.db.session() as s:
        (bot,) = s.execute(sa.select(SLACK_BOTS)).all()
    assert bot.team_id == "T0FAKE" and bot.bot_token in fake.tokens_of("T0FAKE")
    assert bot.bot_user_id == "U0BOT" and bot.bot_id == "B0BOT"


def test_a_denied_install_says_so_and_installs_nothing(oauth_rig: Rig) -> None:
    page = install(oauth_rig, "T0FAKE", deny="1")
    assert page.status == 200
    assert "Throughline was not installed" in page.html and "The install was cancelled in Slack" in page.html
    with oauth_rig.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(SLACK_BOTS)) == 0


def test_a_forged_state_is_refused_with_a_page(oauth_rig: Rig) -> None:
    browser = Browser()
    browser.get(oauth_rig.url + "/slack/install")  # the browser holds a real state's cookie
    forged = browser.get(oauth_rig.url + "/slack/oauth_redirect?code=anything&state=forged-state")
    assert forged.status == 400
    assert "another browser" in forged.html  # the cookie does not match the state
    # a state not issued here, with a cookie that matches it
    cookie = "slack-app-oauth-state=forged-state"
    request = urllib.request.Request(
        oauth_rig.url + "/slack/oauth_redirect?code=anything&state=forged-state", headers={"Cookie": cookie}
    )
    try:
        urllib.request.urlopen(request, timeout=5)
        raise AssertionError("a forged state was accepted")
    except urllib.error.HTTPError as error:
        with error:
            assert error.code == 401
            assert "has expired or was not issued by this Throughline" in error.read().decode()


def test_an_expired_state_is_refused_with_a_page(oauth_rig: Rig) -> None:
    browser = Browser()
    page = browser.get(oauth_rig.url + "/slack/install")
    with oauth_rig.db.session() as s:  # the link was opened more than 10 minutes ago
        s.execute(sa.update(SLACK_OAUTH_STATES).values(expire_at=datetime(2000, 1, 1)))
    late = browser.get(page.add_to_slack + "&team=T0FAKE")
    assert late.status == 401 and "has expired" in late.html and "/slack/install" in late.html
    with oauth_rig.db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(SLACK_BOTS)) == 0


def test_a_client_id_without_its_secret_stops_the_start_in_one_line(monkeypatch) -> None:
    monkeypatch.setenv("SLACK_CLIENT_ID", "1111.2222")
    try:
        load_settings()
        raise AssertionError("started without a client secret")
    except ConfigError as exc:
        message = str(exc)
    assert "\n" not in message and message.startswith("SLACK_CLIENT_SECRET is not set but SLACK_CLIENT_ID is")


def test_socket_mode_with_oauth_is_one_line_naming_serve(tmp_path) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    env = {
        "SLACK_CLIENT_ID": "1111.2222",
        "SLACK_CLIENT_SECRET": "secret",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        "THROUGHLINE_CONFIG": None,
    }
    result = CliRunner().invoke(cli, ["run"], env=env, obj={})
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "throughline: error: SLACK_CLIENT_ID is set: OAuth install for many workspaces runs in HTTP mode; "
        "use `throughline serve`"
    ]


def test_serve_with_a_client_id_and_no_secret_stops_in_one_line(tmp_path) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    env = {"SLACK_CLIENT_ID": "1111.2222", "SLACK_SIGNING_SECRET": "s", "THROUGHLINE_CONFIG": None}
    result = CliRunner().invoke(cli, ["serve"], env=env, obj={})
    assert result.exit_code != 0
    (line,) = result.output.strip().splitlines()
    assert line.startswith("throughline: error: SLACK_CLIENT_SECRET is not set but SLACK_CLIENT_ID is")
