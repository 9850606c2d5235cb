"""The authorisation table, rule by rule."""

from __future__ import annotations

import pytest

from bot.core.authz import POLICY, Action, Role, Subject, can, require
from bot.core.config import WorkspaceSettings
from bot.core.errors import NotAllowed

WS = WorkspaceSettings(triage_leads=["U0LEAD"], admins=["U0ADMIN"], governance_members=["U0GOV"])
SUBJECT = Subject(
    label="REQ-1",
    requester_id="U0DAN",
    owner_id="U0ALICE",
    okr_owner_ids=("U0CAROL",),
    involved_ids=("U0ALICE", "U0BOB"),
    team_lead_ids=("U0LEAD",),
)
WHO = {
    "U0DAN": Role.REQUESTER,
    "U0ALICE": Role.OWNER,
    "U0CAROL": Role.OKR_OWNER,
    "U0BOB": Role.INVOLVED,
    "U0LEAD": Role.TRIAGE_LEAD,
    "U0GOV": Role.GOVERNANCE,
    "U0ADMIN": Role.ADMIN,
}


def test_every_action_has_a_rule() -> None:
    assert set(POLICY) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("user", [*WHO, "U0MALLORY"])
def test_each_action_is_allowed_exactly_by_its_roles(action: Action, user: str) -> None:
    allowed = POLICY[action]
    roles = {Role.ANYONE}
    if user in WHO:
        roles.add(WHO[user])
    if user == "U0ALICE":
        roles.add(Role.INVOLVED)
    if user == "U0LEAD":
        roles.add(Role.TEAM_LEAD)
    assert can(action, user, WS, SUBJECT) == bool(allowed & roles)


def test_refusal_says_who_may() -> None:
    with pytest.raises(NotAllowed) as caught:
        require(Action.TRIAGE, "U0MALLORY", WS, SUBJECT)
    assert caught.value.message == (
        "Only the OKR's owner or a triage lead can accept or decline a request on REQ-1. Nothing was changed."
    )
