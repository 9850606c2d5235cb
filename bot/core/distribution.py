"""The settings of distributing Throughline to several workspaces (OAuth install, docs/distributing.md):
the app's client credentials, the redirect URL, token rotation and how long an uninstalled
workspace's data is kept. None is needed with one SLACK_BOT_TOKEN; `Settings` (bot.core.config)
takes them all."""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator


class DistributionSettings(BaseModel):
    slack_client_id: str | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_CLIENT_ID", "slack_client_id"),
        description="The app's Client ID (Basic Information): with the secret, OAuth install for many "
        "workspaces in HTTP mode instead of one SLACK_BOT_TOKEN.",
    )
    slack_client_secret: SecretStr | None = Field(
        None, validation_alias=AliasChoices("SLACK_CLIENT_SECRET", "slack_client_secret")
    )
    slack_redirect_uri: str | None = Field(
        None,
        validation_alias=AliasChoices("SLACK_REDIRECT_URI", "slack_redirect_uri"),
        description="The OAuth redirect URL, https://<host>/slack/oauth_redirect (it must be one of "
        "the app's Redirect URLs); unset: the one the app's settings name.",
    )
    token_refresh_minutes: int = Field(
        120, ge=1, le=720, description="Token rotation: refresh a bot token expiring within these minutes."
    )
    uninstall_retention_days: int = Field(
        30, ge=0, le=3650, description="Days an uninstalled workspace's data is kept before it is deleted."
    )

    @model_validator(mode="after")
    def _oauth_pair(self) -> DistributionSettings:
        if self.slack_client_id and self.slack_client_secret is None:
            raise ValueError(
                "SLACK_CLIENT_SECRET is not set but SLACK_CLIENT_ID is: OAuth install needs both; copy "
                "the Client Secret from Basic Information (or unset SLACK_CLIENT_ID for one SLACK_BOT_TOKEN)"
            )
        if self.slack_client_secret is not None and not self.slack_client_id:
            raise ValueError(
                "SLACK_CLIENT_ID is not set but SLACK_CLIENT_SECRET is: OAuth install needs both"
            )
        return self

    @property
    def oauth_enabled(self) -> bool:
        """OAuth install for many workspaces (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET set)."""
        return bool(self.slack_client_id and self.slack_client_secret is not None)
