"""The OKR registry's plain values: a period, a row as written, a planned change, a search's groups,
a parsed `/okr` command; the file columns and the limits they are held to.

Priority: 1 (low) to 5 (highest). A key result given no priority, period or owner of its own takes
its objective's priority and period when it is written (so re-import the file after changing an
objective's); its owner stays empty and its objective's owner answers for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from storage.models import Okr

# The columns of an OKR file, in the order `export` writes them.
COLUMNS = (
    "key",
    "title",
    "parent",
    "owner",
    "period",
    "url",
    "priority",
    "metric_unit",
    "metric_start",
    "metric_target",
    "metric_current",
    "governance_channel",
    "archived",
)
REQUIRED_COLUMNS = ("key", "title")
TITLE_LIMIT = 300
KEY_LIMIT = 40
URL_LIMIT = 2000
UNIT_LIMIT = 40
DEFAULT_PRIORITY = 3
OPTION_LIMIT = 100  # Slack shows at most 100 options in a select
OPTION_TEXT_LIMIT = 75


# -- periods --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """An OKR's period (`2026-Q1`, `2026-H2`, `2026-03`, `2026`; see `service.periods` for every
    form read): its text as given (trimmed, upper case) and the days it covers, both ends included."""

    text: str
    start: date
    end: date

    def is_over(self, today: date) -> bool:
        return self.end < today


# -- one row, as written by a person -------------------------------------------------------------


@dataclass(frozen=True)
class SourceRow:
    """One OKR as given in a file or the `/okr add` form: column -> text ("" when blank). A
    column missing from the source is absent from `values`."""

    line: int
    values: Mapping[str, str]


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


# -- planning a change to the registry ------------------------------------------------------------


class ChangeKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"


@dataclass
class Change:
    line: int
    key: str
    kind: ChangeKind
    parent_key: str | None
    values: dict[str, Any]  # the okr columns to write
    changed: list[str] = field(default_factory=list)


@dataclass
class Plan:
    team_id: str
    changes: list[Change] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def count(self, kind: ChangeKind) -> int:
        return sum(1 for c in self.changes if c.kind is kind)

    @property
    def ok(self) -> bool:
        return not self.errors


@dataclass(frozen=True)
class Archived:
    key: str
    title: str
    key_results: list[str]


# -- reading the registry -------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One option of an OKR select: `value` is the OKR's id."""

    value: str
    text: str


@dataclass(frozen=True)
class OkrGroup:
    objective: Okr
    key_results: list[Okr]


def progress(okr: Okr) -> float | None:
    """How far the metric has come from start to target, 0.0–1.0 (can pass either end; falling
    targets too), or None when that can't be said: without a start, a target and a current value
    (a start is not assumed to be 0: "cut churn to 3%" would read as 120%). A target equal to its
    start (hold a value) is 1.0 while the current value is there. The one rule `/okr`,
    `/initiative okr` and the digest share (here, with the values, so that views can show it)."""
    start, target, current = okr.metric_start, okr.metric_target, okr.metric_current
    if start is None or target is None or current is None:
        return None
    if target == start:
        return 1.0 if current == start else None
    return (current - start) / (target - start)


# -- /okr, parsed ---------------------------------------------------------------------------------


class OkrCommandKind(StrEnum):
    LIST = "list"  # /okr, /okr words
    HELP = "help"
    ADD = "add"
    ARCHIVE = "archive"


@dataclass(frozen=True)
class OkrCommand:
    kind: OkrCommandKind
    arg: str = ""
