"""The local Slack's workspaces: several, each with its own bot token, optionally in an Enterprise
Grid org; the OAuth v2 install (an authorize page that redirects back with a code, and
`oauth.v2.access` exchanging the code or a refresh token); and the check real Slack makes on every
call, that the token may see what the call names.

Slack's OAuth v2: https://api.slack.com/authentication/oauth-v2 (the authorize URL, the redirect
with `code` and `state`, or `error=access_denied` when the user cancels), token rotation:
https://api.slack.com/authentication/rotation (`expires_in`, `refresh_token`,
`grant_type=refresh_token`; an expired token answers `token_expired`), org-wide installs:
https://api.slack.com/enterprise/apps (`is_enterprise_install`, `team` null, `enterprise` set).
"""

from __future__ import annotations

import base64
import itertools
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from bot.localslack.records import Channel, User

# the OAuth app the local Slack knows unless told another (loopback only: no secret)
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret"  # noqa: S105
APP_ID = "A0FAKE"
_IDS = itertools.count(1)


@dataclass
class Workspace:
    team_id: str
    name: str
    enterprise_id: str | None = None
    bot_user_id: str = "U0BOT"
    bot_id: str = "B0BOT"


@dataclass
class Grant:
    """A bot token: the workspace (or, org-wide, the enterprise) it acts in, and until when."""

    token: str
    team_id: str | None
    enterprise_id: str | None
    expires_at: float | None = None  # on the local Slack's clock; None: never
    revoked: bool = False

    @property
    def is_enterprise_install(self) -> bool:
        return self.team_id is None


@dataclass
class Crossed:
    """A call whose token belongs to another workspace than what it names (refused)."""

    method: str
    token_team: str | None
    named: str
    owner: str


@dataclass
class OAuthApp:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    rotation: bool = False  # token rotation on: tokens expire and come with a refresh token
    expires_in: int = 43200  # Slack's rotated tokens last 12 hours
    redirect_uri: str | None = None  # the app's configured Redirect URL (used when a request names none)
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)


class Workspaces:
    """Mixed into LocalSlack: `workspaces`, `grants` (token -> Grant), `crossed`, `oauth`."""

    team_id: str
    bot_token: str
    users: dict[str, User]
    channels: dict[str, Channel]
    clock: Callable[[], float]
    workspaces: dict[str, Workspace]
    grants: dict[str, Grant]
    crossed: list[Crossed]
    oauth: OAuthApp
    access_revoked: set[tuple[str, str]]  # (enterprise, team) an org admin took the app away from

    def _reset_workspaces(self) -> None:
        self.workspaces = {self.team_id: Workspace(self.team_id, "Fake Co")}
        self.grants = {self.bot_token: Grant(self.bot_token, self.team_id, None)}
        self.crossed = []
        self.oauth = OAuthApp()
        self.access_revoked = set()

    def add_workspace(
        self,
        team_id: str,
        name: str | None = None,
        *,
        enterprise_id: str | None = None,
        token: str | None = None,
    ) -> Workspace:
        """A workspace (of the enterprise `enterprise_id`, when given); with `token`, the app is
        installed in it already with that bot token (as a single-token deployment is)."""
        suffix = team_id[1:]
        workspace = Workspace(
            team_id, name or f"Team {suffix}", enterprise_id, f"U{suffix}BOT", f"B{suffix}BOT"
        )
        self.workspaces[team_id] = workspace
        if token is not None:
            self.grants[token] = Grant(token, team_id, None)
        return workspace

    def tokens_of(self, team_id: str) -> list[str]:
        """Every bot token ever given for `team_id` (directly, or through its enterprise)."""
        enterprise = self.workspaces[team_id].enterprise_id if team_id in self.workspaces else None
        return [
            g.token
            for g in self.grants.values()
            if g.team_id == team_id or (g.team_id is None and enterprise and g.enterprise_id == enterprise)
        ]

    def uninstall(self, team_id: str) -> None:
        """The app is removed from `team_id`: its tokens stop working (`token_revoked`)."""
        for grant in self.grants.values():
            if grant.team_id == team_id:
                grant.revoked = True

    def revoke_team_access(self, enterprise_id: str, team_id: str) -> None:
        """An org admin takes an org-wide app away from one workspace of the org."""
        self.access_revoked.add((enterprise_id, team_id))

    def grant_team_access(self, enterprise_id: str, team_id: str) -> None:
        """An org admin adds the org-wide app to a workspace of the org (again)."""
        self.access_revoked.discard((enterprise_id, team_id))

    # -- the token check ---------------------------------------------------------------------------

    def _grant_for(self, token: str | None) -> tuple[Grant | None, str | None]:
        """(the token's grant, or the error Slack answers for it)."""
        if not token:
            return None, "not_authed"
        grant = self.grants.get(token)
        if grant is None:
            return None, "invalid_auth"
        if grant.revoked:
            return None, "token_revoked"
        if grant.expires_at is not None and self.clock() >= grant.expires_at:
            return None, "token_expired"
        return grant, None

    def _may_see(self, grant: Grant, team_id: str) -> bool:
        if grant.team_id is not None:
            return grant.team_id == team_id
        workspace = self.workspaces.get(team_id)
        return (
            workspace is not None
            and workspace.enterprise_id == grant.enterprise_id
            and (grant.enterprise_id, team_id) not in self.access_revoked
        )

    def _owner(self, named: str) -> str | None:
        """The workspace a user, DM or channel id belongs to (None: not one this Slack knows)."""
        if named[:1] == "D":
            named = "U" + named[1:]
        if named in self.users:
            return self.users[named].team
        if named in self.channels:
            return self.channels[named].team
        return None

    def crossed_call(self, method: str, args: dict[str, Any], grant: Grant) -> str | None:
        """The error for a call naming a user or conversation of a workspace this token may not
        act in (Slack answers as if it did not exist), recorded in `crossed`; None if none."""
        for key in ("channel", "channel_id", "user", "user_id", "users"):
            value = args.get(key)
            names = value if isinstance(value, list) else str(value or "").split(",")
            for named in (str(n).strip() for n in names if n):
                owner = self._owner(named)
                if owner is not None and not self._may_see(grant, owner):
                    self.crossed.append(Crossed(method, grant.team_id or grant.enterprise_id, named, owner))
                    return (
                        "user_not_found"
                        if key.startswith("user") and named[:1] != "D"
                        else "channel_not_found"
                    )
        return None

    def workspace_of(self, grant: Grant) -> Workspace | None:
        return self.workspaces.get(grant.team_id) if grant.team_id else None

    def api_auth_test(self, args: dict[str, Any], grant: Grant | None = None) -> dict[str, Any]:
        """auth.test answers for the token it is called with."""
        grant = grant or self.grants[self.bot_token]
        workspace = self.workspace_of(grant)
        answer: dict[str, Any] = {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": workspace.name if workspace else "Fake Org",
            "user": "throughline",
            "team_id": grant.team_id or grant.enterprise_id,
            "user_id": workspace.bot_user_id if workspace else "U0ORGBOT",
            "bot_id": workspace.bot_id if workspace else "B0ORGBOT",
            "is_enterprise_install": grant.is_enterprise_install,
        }
        enterprise = grant.enterprise_id or (workspace.enterprise_id if workspace else None)
        if enterprise:
            answer["enterprise_id"] = enterprise
        return answer

    # -- OAuth v2 ----------------------------------------------------------------------------------

    def authorize_redirect(self, query: str) -> str:
        """GET /oauth/v2/authorize: the user approves (or cancels, `deny=1`), and Slack sends the
        browser back to the redirect URL with `code` and `state` (or `error=access_denied`).

        The local Slack has no workspace picker: `team=T…` says which workspace the user installs
        into (the first one by default), `enterprise=E…` makes it an org-wide install."""
        params = {k: v[-1] for k, v in parse_qs(query).items()}
        redirect = params.get("redirect_uri") or self.oauth.redirect_uri or ""
        if params.get("client_id") != self.oauth.client_id or not redirect:
            raise ValueError("invalid_client_id" if redirect else "bad_redirect_uri")
        state = params.get("state", "")
        if params.get("deny"):
            return _with_query(redirect, {"error": "access_denied", "state": state})
        enterprise = params.get("enterprise")
        team = None if enterprise else params.get("team") or self.team_id
        code = f"code-{next(_IDS)}-{secrets.token_hex(4)}"
        self.oauth.codes[code] = {
            "team_id": team,
            "enterprise_id": enterprise
            or (self.workspaces[team].enterprise_id if team in self.workspaces else None),
            "redirect_uri": redirect,
            "scope": params.get("scope", ""),
            "user": params.get("user") or "U0ADMIN",
        }
        return _with_query(redirect, {"code": code, "state": state})

    def client_credentials(self, authorization: str, args: dict[str, Any]) -> bool:
        """oauth.v2.access authenticates the app: HTTP Basic, or client_id and client_secret fields."""
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        if authorization.startswith("Basic "):
            decoded = base64.b64decode(authorization[6:]).decode("utf-8", "replace")
            client_id, _, client_secret = decoded.partition(":")
        return client_id == self.oauth.client_id and client_secret == self.oauth.client_secret

    def api_oauth_v2_access(self, args: dict[str, Any]) -> dict[str, Any]:
        if args.get("grant_type") == "refresh_token":
            given = self.oauth.refresh_tokens.pop(str(args.get("refresh_token")), None)
            if given is None:
                return {"ok": False, "error": "invalid_refresh_token"}
            return self._issue(given)
        given = self.oauth.codes.pop(str(args.get("code")), None)
        if given is None:
            return {"ok": False, "error": "invalid_code"}
        if args.get("redirect_uri") and args["redirect_uri"] != given["redirect_uri"]:
            # Slack: the redirect_uri of the exchange must match the authorize request's
            return {"ok": False, "error": "bad_redirect_uri"}
        return self._issue(given)

    def _issue(self, given: dict[str, Any]) -> dict[str, Any]:
        token = f"xoxb-{secrets.token_hex(6)}-{next(_IDS)}"
        team, enterprise = given["team_id"], given["enterprise_id"]
        expires = self.clock() + self.oauth.expires_in if self.oauth.rotation else None
        self.grants[token] = Grant(token, team, enterprise, expires)
        workspace = self.workspaces.get(team) if team else None
        answer: dict[str, Any] = {
            "ok": True,
            "app_id": APP_ID,
            "authed_user": {"id": given["user"]},
            "scope": given["scope"],
            "token_type": "bot",
            "access_token": token,
            "bot_user_id": workspace.bot_user_id if workspace else "U0ORGBOT",
            "team": {"id": team, "name": workspace.name} if workspace else None,
            "enterprise": {"id": enterprise, "name": f"Org {enterprise}"} if enterprise else None,
            "is_enterprise_install": team is None,
        }
        if self.oauth.rotation:
            refresh = f"xoxe-1-{secrets.token_hex(8)}"
            self.oauth.refresh_tokens[refresh] = given
            answer.update(refresh_token=refresh, expires_in=self.oauth.expires_in)
        return answer


def _with_query(url: str, params: dict[str, str]) -> str:
    joiner = "&" if urlsplit(url).query else "?"
    return url + joiner + urlencode(params)
