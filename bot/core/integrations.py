"""The settings of the trackers initiatives link to (Jira Cloud, GitHub): which sites and
repositories, the credentials Throughline reads them with, and the webhooks' shared secrets. None is
needed for the rest of the product; `Settings` (bot.core.config) takes them all."""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

_REPO = re.compile(r"^[A-Za-z0-9_.-]+/([A-Za-z0-9_.-]+|\*)$")
Sites = Annotated[list[str], NoDecode]


def _split(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            import json

            return json.loads(text)
        return [part for part in re.split(r"[\s,]+", text) if part]
    return value


def _base_url(value: str) -> str:
    text = value.strip().rstrip("/")
    if not text.startswith(("https://", "http://")):
        text = "https://" + text
    return text


class TrackerSettings(BaseModel):
    jira_sites: Sites = Field(
        default_factory=list,
        description="Jira Cloud sites links may point to, e.g. https://acme.atlassian.net.",
    )
    jira_email: str | None = Field(None, description="The Atlassian account Throughline reads Jira as.")
    jira_api_token: SecretStr | None = Field(None, description="That account's API token.")
    jira_webhook_secret: SecretStr | None = Field(None, description="The Jira webhook's secret.")
    github_repos: Sites = Field(
        default_factory=list, description="GitHub repositories links may point to: owner/name or owner/*."
    )
    github_token: SecretStr | None = Field(
        None, description="A GitHub token that can read those repositories."
    )
    github_webhook_secret: SecretStr | None = Field(None, description="The GitHub webhook's secret.")
    github_url: str = Field(
        "https://github.com", description="Where GitHub's pages are (GitHub Enterprise: yours)."
    )
    github_api_url: str = Field("https://api.github.com", description="GitHub's REST API.")
    tracker_timeout_seconds: float = Field(
        2.0, gt=0, le=30, description="How long a link check waits for the tracker (Slack waits 3 s)."
    )
    tracker_reconcile_minutes: int = Field(
        30, ge=1, le=1440, description="How often each linked item is read again, to repair missed webhooks."
    )
    tracker_reconcile_batch: int = Field(
        100, ge=1, le=5000, description="Linked items read per tick at most."
    )

    @field_validator("jira_sites", mode="before")
    @classmethod
    def _sites(cls, value: Any) -> Any:
        return [_base_url(str(item)) for item in _split(value) or []]

    @field_validator("github_repos", mode="before")
    @classmethod
    def _repos(cls, value: Any) -> Any:
        value = _split(value)
        for item in value or []:
            if not _REPO.match(str(item)):
                raise ValueError(f"{item!r} should be owner/name or owner/* (e.g. acme/web)")
        return [str(item).lower() for item in value or []]

    @field_validator("github_url", "github_api_url", mode="before")
    @classmethod
    def _urls(cls, value: Any) -> Any:
        return _base_url(str(value))

    @model_validator(mode="after")
    def _jira_credentials(self) -> TrackerSettings:
        if self.jira_sites and not (self.jira_email and self.jira_api_token):
            raise ValueError(
                "THROUGHLINE_JIRA_SITES is set but THROUGHLINE_JIRA_EMAIL or THROUGHLINE_JIRA_API_TOKEN is "
                "not: create an API token at https://id.atlassian.com/manage-profile/security/api-tokens "
                "and set both"
            )
        return self

    @property
    def trackers_on(self) -> bool:
        """Whether any tracker is set up (links can be made)."""
        return bool(self.jira_sites or self.github_repos)

    def tracker_names(self) -> list[str]:
        """The trackers set up, by name: what a form asks links of."""
        return [name for name, on in (("Jira", self.jira_sites), ("GitHub", self.github_repos)) if on]

    def jira_site(self, url: str) -> str | None:
        """The configured Jira site `url` is on (its base URL), or None."""
        return next((site for site in self.jira_sites if url == site or url.startswith(site + "/")), None)

    def github_repo_allowed(self, full_name: str) -> bool:
        owner = full_name.split("/")[0]
        return full_name.lower() in self.github_repos or f"{owner.lower()}/*" in self.github_repos
