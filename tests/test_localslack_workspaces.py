"""The local Slack's workspaces: a token per workspace, the check that a call's token belongs to
the workspace it names, auth.test per token, and OAuth v2 (code exchange, rotation, org installs)."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.localslack.workspaces import CLIENT_ID, CLIENT_SECRET
from tests.slackfake import BOT_TOKEN, FakeSlack


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _authorize(fake: FakeSlack, **params: str) -> dict[str, str]:
    """Approve an install at the local Slack's authorize page; the redirect's query."""
    query = {"client_id": CLIENT_ID, "scope": "chat:write", "state": "s1", "redirect_uri": "http://app/cb"}
    query.update(params)
    opener = urllib.request.build_opener(_NoRedirect)
    url = f"{fake.base}/oauth/v2/authorize?{urllib.parse.urlencode(query)}"
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(url)
    assert redirect.value.code == 302
    location = redirect.value.headers["Location"]
    redirect.value.close()
    assert location.startswith("http://app/cb?")
    return {k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(location).query).items()}


def test_each_token_acts_in_its_own_workspace_and_a_crossed_call_is_refused(
    fake: FakeSlack,
) -> None:
    fake.add_workspace("T0OTHER", "Other Co", token="xoxb-other")
    fake.add_user("U1ZOE", "zoe", team="T0OTHER")
    fake.add_channel("C1OTHER", "other-general", team="T0OTHER")
    ours, theirs = WebClient(BOT_TOKEN, base_url=fake.url), WebClient("xoxb-other", base_url=fake.url)

    assert ours.auth_test()["team_id"] == "T0FAKE"
    answer = theirs.auth_test()
    assert (answer["team_id"], answer["user_id"]) == ("T0OTHER", "U0OTHERBOT")
    theirs.chat_postMessage(channel="C1OTHER", text="hello")
    with pytest.raises(SlackApiError) as refused:
        ours.chat_postMessage(channel="C1OTHER", text="wrong token")
    assert refused.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError):
        theirs.users_info(user="U0ALICE")
    assert [(c.method, c.token_team, c.named, c.owner) for c in fake.crossed] == [
        ("chat.postMessage", "T0FAKE", "C1OTHER", "T0OTHER"),
        ("users.info", "T0OTHER", "U0ALICE", "T0FAKE"),
    ]
    assert [m.text for m in fake.posts("C1OTHER")] == ["hello"]


def test_oauth_code_exchange_rotation_and_expiry(fake: FakeSlack, monkeypatch) -> None:
    now = [1_000_000.0]
    monkeypatch.setattr(fake, "clock", lambda: now[0])  # the local Slack is shared: put back after
    fake.oauth.rotation = True
    fake.add_workspace("T0SECOND", "Second")
    code = _authorize(fake, team="T0SECOND")
    assert code["state"] == "s1"
    anonymous = WebClient(base_url=fake.url)
    with pytest.raises(SlackApiError) as bad:
        anonymous.oauth_v2_access(client_id=CLIENT_ID, client_secret="wrong", code=code["code"])
    assert bad.value.response["error"] == "invalid_client"
    issued = anonymous.oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code["code"], redirect_uri="http://app/cb"
    )
    assert issued["team"]["id"] == "T0SECOND" and issued["expires_in"] == 43200
    assert WebClient(issued["access_token"], base_url=fake.url).auth_test()["team_id"] == "T0SECOND"

    refreshed = anonymous.oauth_v2_access(
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        grant_type="refresh_token",
        refresh_token=issued["refresh_token"],
    )
    assert refreshed["access_token"] != issued["access_token"]
    now[0] += 43200
    with pytest.raises(SlackApiError) as expired:
        WebClient(issued["access_token"], base_url=fake.url).auth_test()
    assert expired.value.response["error"] == "token_expired"
    with pytest.raises(SlackApiError) as used:
        anonymous.oauth_v2_access(
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            grant_type="refresh_token",
            refresh_token=issued["refresh_token"],
        )
    assert used.value.response["error"] == "invalid_refresh_token"


def test_a_denied_install_and_an_org_wide_install(fake: FakeSlack) -> None:
    assert _authorize(fake, deny="1") == {"error": "access_denied", "state": "s1"}
    fake.add_workspace("T0EAST", enterprise_id="E0ORG")
    fake.add_workspace("T0WEST", enterprise_id="E0ORG")
    fake.add_channel("C0EAST", team="T0EAST")
    fake.add_channel("C0WEST", team="T0WEST")
    code = _authorize(fake, enterprise="E0ORG")["code"]
    issued = WebClient(base_url=fake.url).oauth_v2_access(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, code=code
    )
    assert issued["is_enterprise_install"] and issued["team"] is None
    assert issued["enterprise"]["id"] == "E0ORG"
    org = WebClient(issued["access_token"], base_url=fake.url)
    org.chat_postMessage(channel="C0EAST", text="east")
    org.chat_postMessage(channel="C0WEST", text="west")
    with pytest.raises(SlackApiError):
        org.chat_postMessage(channel="C0GENERAL", text="not of the org")
    fake.revoke_team_access("E0ORG", "T0WEST")
    with pytest.raises(SlackApiError):
        org.chat_postMessage(channel="C0WEST", text="access revoked")
    fake.uninstall("T0FAKE")
    with pytest.raises(SlackApiError) as revoked:
        WebClient(BOT_TOKEN, base_url=fake.url).auth_test()
    assert revoked.value.response["error"] == "token_revoked"
