"""Linked work's plain pieces: what a link points to (`Ref`), what a tracker says of it (`Item`),
what the card shows (`LinkLine`), and how reading a tracker can fail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.errors import Invalid


class Tracker(StrEnum):
    JIRA = "jira"
    GITHUB = "github"


class Kind(StrEnum):
    ISSUE = "issue"
    EPIC = "epic"  # Jira: an issue of hierarchy level 1; its children are counted
    PULL = "pull"
    MILESTONE = "milestone"


TRACKER_NAMES = {Tracker.JIRA: "Jira", Tracker.GITHUB: "GitHub"}
CARD_LINK_LIMIT = 10  # linked items shown on the card; it says how many more there are


@dataclass(frozen=True)
class Ref:
    """Where a link points: `site` is the Jira site's URL or the GitHub repository (owner/name,
    lower case); `ref` the issue key or the number. A Jira link's kind (issue or epic) is known once
    it is read."""

    tracker: Tracker
    kind: Kind
    site: str
    ref: str

    @property
    def label(self) -> str:
        return self.ref if self.tracker is Tracker.JIRA else f"{self.site}#{self.ref}"


@dataclass(frozen=True)
class Item:
    """What the tracker says of one item, read by REST or carried by a webhook."""

    ref: Ref
    url: str
    title: str
    status: str
    done: bool
    assignee: str | None
    updated_at: datetime | None
    done_count: int | None = None  # an epic's or milestone's items done, of total_count
    total_count: int | None = None
    parent: str | None = None  # a Jira issue's epic (its key), whose counts it changes


@dataclass(frozen=True)
class LinkLine:
    """One linked item on the status card."""

    ref: Ref
    url: str
    title: str
    status: str
    done: bool
    missing: bool
    assignee: str | None
    done_count: int | None
    total_count: int | None


@dataclass(frozen=True)
class Move:
    """What changed in one linked item over a stretch of time (first value, last value), or that
    it was deleted: what a check-in shows as having moved."""

    label: str  # PAY-12, acme/web#3
    url: str
    changes: dict[str, tuple[object, object]]  # status, done, assignee, done_count, ... -> (from, to)
    gone: bool = False


@dataclass(frozen=True)
class Linked:
    """The answer to a link: the initiative's key and the item, and whether it was new."""

    initiative_key: str
    item: Item
    new: bool


URL_FIELD = "tracker_link_url"  # the input block the link's errors belong to


class TrackerUnreachable(Invalid):
    """The tracker did not answer (or answered with a server error, or refused Throughline's
    credentials); nothing was changed. Shown on the link's field: the user may try again."""

    def __init__(self, message: str) -> None:
        super().__init__(message, URL_FIELD)


class RateLimited(Exception):
    """The tracker asks us to wait `seconds` (Retry-After, or until its rate limit resets)."""

    def __init__(self, site: str, seconds: float) -> None:
        super().__init__(f"{site}: rate limited for {seconds:.0f} s")
        self.site, self.seconds = site, seconds


class ItemGone(Exception):
    """The tracker says the item does not exist (404), or is no longer ours to read."""


@dataclass(frozen=True)
class LinkedFact:
    """What the stall rules need of one item linked to a provider initiative."""

    label: str  # PAY-12, acme/web#3
    tracker: Tracker
    kind: Kind
    status: str
    done: bool
    status_since: datetime
    moved_at: datetime
