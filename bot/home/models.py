"""The App Home's plain pieces: its sections and page sizes, which page of each list it shows,
what it shows, and the settings an admin can change from it (with their form's block ids, which
the errors are keyed by)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.config import WorkspaceSettings
from bot.status.models import DueCheckin, InitiativeLine, Page, WaitingLine


class HomeSection(StrEnum):
    DUE = "due"  # check-ins due from me
    OWNED = "owned"  # my initiatives
    WAITING = "waiting"  # waiting on me
    REQUESTED = "requested"  # my requests and their state


PAGE_SIZE = {HomeSection.DUE: 5, HomeSection.OWNED: 10, HomeSection.WAITING: 10, HomeSection.REQUESTED: 10}
MAX_PAGE = 10_000


@dataclass(frozen=True)
class HomePages:
    """Which page of each list the Home shows (0 = the first)."""

    due: int = 0
    owned: int = 0
    waiting: int = 0
    requested: int = 0

    def page(self, section: HomeSection) -> int:
        return int(getattr(self, section.value))

    def turned(self, section: HomeSection, by: int) -> HomePages:
        return replace(self, **{section.value: max(0, min(MAX_PAGE, self.page(section) + by))})

    def to_value(self) -> str:
        """A button value (well under Slack's 2,000 characters)."""
        return json.dumps({s.value: self.page(s) for s in HomeSection if self.page(s)}, separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str | None) -> HomePages:
        """Pages from a button value; anything unreadable means the first pages."""
        try:
            data: Any = json.loads(value or "{}")
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        pages: dict[str, int] = {}
        for section in HomeSection:
            number = data.get(section.value, 0)
            if isinstance(number, int) and not isinstance(number, bool):
                pages[section.value] = max(0, min(MAX_PAGE, number))
        return cls(**pages)


@dataclass(frozen=True)
class HomeData:
    user_id: str
    zone: ZoneInfo
    pages: HomePages
    due: Page[DueCheckin]
    owned: Page[InitiativeLine]
    waiting: Page[WaitingLine]
    requested: Page[InitiativeLine]
    settings: WorkspaceSettings | None  # the effective settings, for admins only


# -- settings --------------------------------------------------------------------------------------

# What an admin can change from the Home, in the form's order.
SETTINGS_FIELDS = (
    "triage_channel",
    "governance_channel",
    "digest_channel",
    "default_cadence",
    "reminder_after_hours",
    "holidays",
    "stall_blocked_days",
    "stall_missed_checkins",
    "stall_silent_periods",
    "escalate_level2_days",
    "escalate_level3_days",
    "tracker_backlinks",
)


def settings_block(name: str) -> str:
    """The input block id of setting `name` in the settings form (errors land there)."""
    return f"settings_{name}"
