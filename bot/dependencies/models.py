"""What the dependency functions take and return: limits, what a modal shows, a change just made
(for the flow that tells both sides), and an initiative's dependencies both ways."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storage.models import Dependency, DependencyState, Initiative

WHAT_LIMIT = 500
REASON_LIMIT = 500


@dataclass(frozen=True)
class AddContext:
    """What the add-dependency modal shows: the waiting initiative and the teams one can pick."""

    waiter_key: str
    waiter_title: str
    teams: tuple[str, ...]


@dataclass(frozen=True)
class ManageContext:
    """What the renegotiate modal shows."""

    dependency_id: int
    waiter_key: str
    provider_label: str
    what: str
    needed_by: date | None


@dataclass(frozen=True)
class Change:
    """A dependency the service just changed, with both sides, for the flow that tells them:
    `event_id` is the first of the two history events; a renegotiation also has the old date and
    the reason."""

    dependency: Dependency
    waiter: Initiative
    provider: Initiative | None
    event_id: int = 0
    old_needed_by: date | None = None
    reason: str = ""


@dataclass(frozen=True)
class DependencyLine:
    """One dependency as both sides see it."""

    id: int
    waiter_key: str
    waiter_title: str
    waiter_owner_id: str | None
    provider_key: str | None  # None: waits on a team
    provider_title: str | None
    provider_owner_id: str | None
    provider_team: str | None
    provider_contact_id: str | None
    what: str
    needed_by: date | None
    state: DependencyState
    stalled_since: datetime | None
    stall_reason: str | None
    escalation_id: int | None  # the open escalation, if any
    escalation_level: int | None


@dataclass(frozen=True)
class InitiativeDependencies:
    waits_on: list[DependencyLine]  # this initiative is the waiter
    waited_on_by: list[DependencyLine]  # this initiative is the provider
