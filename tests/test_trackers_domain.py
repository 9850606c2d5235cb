"""Linked work's rules without Slack: reading a pasted link, the settings that allow it, and the
trackers' JSON."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.config import ConfigError, load_settings
from bot.core.errors import Invalid
from bot.core.integrations import TrackerSettings
from bot.trackers.handlers.webhooks import signed
from bot.trackers.models import URL_FIELD, Kind, Ref, Tracker
from bot.trackers.service import reading, urls

SITE = "https://acme.atlassian.net"
SETTINGS = TrackerSettings(
    jira_sites=["acme.atlassian.net/"],
    jira_email="a@example.com",
    jira_api_token="t",
    github_repos=["acme/web", "tools/*"],
)


@pytest.mark.parametrize(
    ("link", "ref"),
    [
        (f"{SITE}/browse/PAY-12", Ref(Tracker.JIRA, Kind.ISSUE, SITE, "PAY-12")),
        (f"{SITE}/browse/pay-12/", Ref(Tracker.JIRA, Kind.ISSUE, SITE, "PAY-12")),
        (
            f"<{SITE}/browse/PAY-12|PAY-12>",
            Ref(Tracker.JIRA, Kind.ISSUE, SITE, "PAY-12"),
        ),  # as Slack wraps it
        (
            f"{SITE}/jira/software/projects/PAY/boards/3?selectedIssue=PAY-9",
            Ref(Tracker.JIRA, Kind.ISSUE, SITE, "PAY-9"),
        ),
        ("https://github.com/Acme/Web/issues/7", Ref(Tracker.GITHUB, Kind.ISSUE, "acme/web", "7")),
        ("https://github.com/acme/web/pull/8/files", Ref(Tracker.GITHUB, Kind.PULL, "acme/web", "8")),
        ("https://github.com/acme/web/milestone/2", Ref(Tracker.GITHUB, Kind.MILESTONE, "acme/web", "2")),
        ("https://github.com/tools/cli/issues/1", Ref(Tracker.GITHUB, Kind.ISSUE, "tools/cli", "1")),
    ],
)
def test_links_are_read_into_what_they_point_to(link: str, ref: Ref) -> None:
    assert urls.parse(link, SETTINGS) == ref


@pytest.mark.parametrize(
    "link",
    [
        "https://acme.atlassian.net.evil.com/browse/PAY-1",  # not the configured site
        "https://github.com/acme/webx/issues/1",
        "https://github.com/acme/web/issues/0",
        "https://github.com/acme/web/wiki/1",
        f"{SITE}/browse/PAY-0",
        "javascript:alert(1)",
        "ftp://acme.atlassian.net/browse/PAY-1",
    ],
)
def test_links_that_point_elsewhere_are_refused_on_the_field(link: str) -> None:
    with pytest.raises(Invalid) as caught:
        urls.parse(link, SETTINGS)
    assert caught.value.field == URL_FIELD


@given(st.text(max_size=300))
def test_any_text_is_a_link_or_a_clear_refusal(text: str) -> None:
    try:
        ref = urls.parse(text, SETTINGS)
    except Invalid as refused:
        assert refused.field == URL_FIELD and refused.message
    else:
        assert ref.ref and ref.site


@given(st.binary(max_size=200), st.text(max_size=80))
def test_only_the_right_hmac_is_a_signature(body: bytes, header: str) -> None:
    from bot.localtrackers.webhooks import signature

    assert signed("secret", body, signature("secret", body))
    assert not signed("secret", body, signature("other", body))
    assert signed("secret", body, header) == (header.strip() == signature("secret", body))


def test_jira_sites_without_credentials_are_refused_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THROUGHLINE_JIRA_SITES", "acme.atlassian.net")
    with pytest.raises(ConfigError, match=r"THROUGHLINE_JIRA_SITES is set but THROUGHLINE_JIRA_EMAIL"):
        load_settings()
    monkeypatch.setenv("THROUGHLINE_JIRA_EMAIL", "bot@acme.com")
    monkeypatch.setenv("THROUGHLINE_JIRA_API_TOKEN", "token")
    assert load_settings().jira_sites == ["https://acme.atlassian.net"]


def test_a_malformed_repository_is_refused_at_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THROUGHLINE_GITHUB_REPOS", "acme/web, https://github.com/acme/api")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value) == (
        "THROUGHLINE_GITHUB_REPOS: 'https://github.com/acme/api' should be owner/name or owner/* "
        "(e.g. acme/web)"
    )


def test_the_trackers_json_is_read_as_they_document_it() -> None:
    epic = reading.jira_item(
        SITE,
        {
            "key": "PAY-1",
            "fields": {
                "summary": "Checkout",
                "status": {"name": "In Progress", "statusCategory": {"key": "indeterminate"}},
                "issuetype": {"name": "Initiative epic", "hierarchyLevel": 1},
                "assignee": None,
                "updated": "2026-03-02T09:15:00.000+0100",
            },
        },
        (2, 5),
    )
    assert (epic.ref.kind, epic.done, epic.done_count, epic.total_count) == (Kind.EPIC, False, 2, 5)
    assert epic.updated_at is not None and epic.updated_at.isoformat() == "2026-03-02T09:15:00+01:00"
    wontfix = reading.github_item(
        "acme/web",
        {
            "number": 3,
            "state": "closed",
            "state_reason": "not_planned",
            "html_url": "https://github.com/acme/web/issues/3",
        },
        Kind.ISSUE,
    )
    assert (wontfix.status, wontfix.done) == ("closed as not planned", True)
    with pytest.raises(ValueError):
        reading.github_item("acme/web", {"number": "3"}, Kind.ISSUE)
