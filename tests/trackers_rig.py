"""Settings for linked work: the app pointed at the local Jira and GitHub (the `jira` and `github`
fixtures of conftest), with webhook secrets, as an admin would set them up."""

from __future__ import annotations

from typing import Any

from bot.core.config import Settings
from bot.localtrackers import github as gh
from bot.localtrackers import jira as jr
from bot.localtrackers.github import LocalGitHub
from bot.localtrackers.jira import LocalJira
from tests.conftest import make_settings
from tests.slackfake import FakeSlack

JIRA_SECRET = "jira-webhook-secret-5d41402abc4b2a76"
GITHUB_SECRET = "github-webhook-secret-7d793037a0760186"
CLOSED_SITE = "http://127.0.0.1:9"  # a Jira site nothing answers on (connection refused)


def tracker_settings(jira: LocalJira, github: LocalGitHub) -> dict[str, Any]:
    return {
        "jira_sites": [jira.url, CLOSED_SITE],
        "jira_email": jr.EMAIL,
        "jira_api_token": jr.API_TOKEN,
        "jira_webhook_secret": JIRA_SECRET,
        "github_repos": ["acme/web", "acme/api"],
        "github_token": gh.TOKEN,
        "github_api_url": github.url,
        "github_webhook_secret": GITHUB_SECRET,
        "tracker_timeout_seconds": 2,
    }


def linked_settings(fake: FakeSlack, database_url: str, jira: LocalJira, github: LocalGitHub) -> Settings:
    """A test module's `settings` fixture returns these to run the app with both trackers."""
    return make_settings(fake, database_url, **tracker_settings(jira, github))
