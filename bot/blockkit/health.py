"""The one table of how a health, and an initiative's state, reads on every surface: its words
and its icon. Check-ins, status cards, the Home tab, escalations and the digest all use it."""

from __future__ import annotations

from storage.models import Health, InitiativeState

HEALTH_ICON: dict[Health | None, str] = {
    Health.ON_TRACK: ":large_green_circle:",
    Health.AT_RISK: ":large_yellow_circle:",
    Health.BLOCKED: ":red_circle:",
    None: ":white_circle:",
}
HEALTH_WORDS: dict[Health | None, str] = {
    Health.ON_TRACK: "on track",
    Health.AT_RISK: "at risk",
    Health.BLOCKED: "blocked",
    None: "no check-in yet",
}
STATE_WORDS: dict[InitiativeState, str] = {
    InitiativeState.PROPOSED: "waiting for triage",
    InitiativeState.ACTIVE: "active",
    InitiativeState.DONE: "done",
    InitiativeState.DECLINED: "declined",
    InitiativeState.CANCELLED: "cancelled",
}
