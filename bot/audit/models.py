"""What a check of the chain finds, and what an export wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Break(StrEnum):
    CHANGED = "changed"  # its content no longer gives its hash
    DELETED = "deleted"  # a place (or the end of the chain) is missing
    INSERTED = "inserted"  # in the chain where it was never written, or outside it
    ANCHOR = "anchor"  # the chain no longer holds the prefix an anchor recorded


@dataclass(frozen=True)
class Problem:
    team_id: str
    kind: Break
    text: str  # one line: which event (id, place, time) and what is wrong with it
    event_id: int | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class Anchor:
    """A prefix of a chain: its first `count` events end with `head`. Printed as COUNT:HASH."""

    count: int
    head: str

    def __str__(self) -> str:
        return f"{self.count}:{self.head}"

    @classmethod
    def parse(cls, text: str) -> Anchor:
        """Raises ValueError when `text` is not COUNT:HASH (a count >= 0, 64 hex digits)."""
        count, _, head = text.strip().partition(":")
        if not count.isdigit() or len(head) != 64 or any(c not in "0123456789abcdef" for c in head.lower()):
            raise ValueError(f"{text!r} is not COUNT:HASH (as `audit verify` prints it)")
        return cls(int(count), head.lower())


@dataclass
class ChainReport:
    team_id: str
    count: int = 0  # events in the chain, as walked
    anchor: Anchor | None = None  # the head, when the chain is whole
    problems: list[Problem] = field(default_factory=list)
    more: int = 0  # problems found beyond those listed

    @property
    def ok(self) -> bool:
        return not self.problems
