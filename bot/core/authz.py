"""Who may do what: one table, enforced in the domain.

Each action names the roles allowed to take it; a role is what a person is to the thing acted on
(its requester, its owner, the OKR's owner...) or in the workspace (a triage lead, an admin...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot.core.config import WorkspaceSettings
from bot.core.errors import NotAllowed


class Role(StrEnum):
    ANYONE = "anyone in the workspace"
    REQUESTER = "the requester"
    OWNER = "the owner"
    OKR_OWNER = "the OKR's owner"
    INVOLVED = "the people involved"
    TEAM_LEAD = "the team's lead"
    TRIAGE_LEAD = "a triage lead"
    GOVERNANCE = "a governance member"
    ADMIN = "a Throughline admin"


class Action(StrEnum):
    SUBMIT_REQUEST = "submit a request"
    TRIAGE = "accept or decline a request"
    ASK_FOR_INFO = "ask the requester for more information"
    ANSWER_FOR_INFO = "answer triage's questions about this request"
    UPDATE = "post a check-in for this initiative"
    SNOOZE_CHECKIN = "snooze this check-in"
    REASSIGN = "change the owner or cadence"
    CLOSE = "close or cancel this initiative"
    ADD_DEPENDENCY = "add a dependency to this initiative"
    MANAGE_DEPENDENCY = "renegotiate or mark this dependency met"
    LINK_WORK = "link Jira or GitHub work to this initiative"
    HANDLE_ESCALATION = "acknowledge, resolve or snooze this escalation"
    CHANGE_SETTINGS = "change Throughline's settings"
    MANAGE_OKRS = "add, import or archive OKRs"
    EXPORT_DATA = "export the workspace's data"


POLICY: dict[Action, frozenset[Role]] = {
    Action.SUBMIT_REQUEST: frozenset({Role.ANYONE}),
    Action.TRIAGE: frozenset({Role.TRIAGE_LEAD, Role.OKR_OWNER}),
    Action.ASK_FOR_INFO: frozenset({Role.TRIAGE_LEAD, Role.OKR_OWNER}),
    Action.ANSWER_FOR_INFO: frozenset({Role.REQUESTER}),
    Action.UPDATE: frozenset({Role.OWNER}),
    Action.SNOOZE_CHECKIN: frozenset({Role.OWNER}),
    Action.REASSIGN: frozenset({Role.OWNER, Role.TRIAGE_LEAD, Role.OKR_OWNER}),
    Action.CLOSE: frozenset({Role.OWNER, Role.TRIAGE_LEAD, Role.OKR_OWNER}),
    Action.ADD_DEPENDENCY: frozenset({Role.OWNER, Role.REQUESTER, Role.TRIAGE_LEAD}),
    Action.MANAGE_DEPENDENCY: frozenset({Role.INVOLVED, Role.OKR_OWNER, Role.TRIAGE_LEAD}),
    Action.LINK_WORK: frozenset({Role.OWNER, Role.REQUESTER, Role.OKR_OWNER, Role.TRIAGE_LEAD}),
    Action.HANDLE_ESCALATION: frozenset({Role.INVOLVED, Role.OKR_OWNER, Role.GOVERNANCE}),
    Action.CHANGE_SETTINGS: frozenset({Role.ADMIN}),
    Action.MANAGE_OKRS: frozenset({Role.ADMIN, Role.OKR_OWNER}),
    Action.EXPORT_DATA: frozenset({Role.ADMIN}),
}


@dataclass(frozen=True)
class Subject:
    """The people who stand in a relation to the thing acted on. Leave out what does not apply."""

    label: str = ""  # "REQ-17", for the refusal message
    requester_id: str | None = None
    owner_id: str | None = None
    okr_owner_ids: tuple[str, ...] = ()  # the KR's owner and its objective's owner
    involved_ids: tuple[str, ...] = ()  # both sides of a dependency: owners and contacts
    team_lead_ids: tuple[str, ...] = ()


def roles_of(user_id: str, settings: WorkspaceSettings, subject: Subject | None = None) -> set[Role]:
    subject = subject or Subject()
    roles = {Role.ANYONE}
    if subject.requester_id == user_id:
        roles.add(Role.REQUESTER)
    if subject.owner_id == user_id:
        roles.add(Role.OWNER)
    if user_id in subject.okr_owner_ids:
        roles.add(Role.OKR_OWNER)
    if user_id in subject.involved_ids:
        roles.add(Role.INVOLVED)
    if user_id in subject.team_lead_ids:
        roles.add(Role.TEAM_LEAD)
    if user_id in settings.triage_leads:
        roles.add(Role.TRIAGE_LEAD)
    if user_id in settings.governance_members:
        roles.add(Role.GOVERNANCE)
    if user_id in settings.admins:
        roles.add(Role.ADMIN)
    return roles


def can(action: Action, user_id: str, settings: WorkspaceSettings, subject: Subject | None = None) -> bool:
    return bool(POLICY[action] & roles_of(user_id, settings, subject))


def require(
    action: Action, user_id: str, settings: WorkspaceSettings, subject: Subject | None = None
) -> None:
    """Raise NotAllowed, saying who may, unless `user_id` may take `action` on `subject`."""
    if can(action, user_id, settings, subject):
        return
    allowed = _words(POLICY[action])
    on = f" on {subject.label}" if subject and subject.label else ""
    raise NotAllowed(f"Only {allowed} can {action.value}{on}. Nothing was changed.")


def _words(roles: Iterable[Role]) -> str:
    names = [r.value for r in Role if r in set(roles)]  # in the enum's order
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " or " + names[-1]
