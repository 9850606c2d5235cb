"""What the initiatives service returns: plain values, no rows."""

from __future__ import annotations

from dataclasses import dataclass

# how many initiatives a select menu search returns at most: Slack shows at most 100 options
SEARCH_LIMIT = 100
# how many typed words a search looks for (each must match), and how much of the text it reads
SEARCH_WORDS = 8
SEARCH_TEXT_LIMIT = 100


@dataclass(frozen=True)
class InitiativeChoice:
    """One initiative offered by a select menu's search."""

    id: int
    key: str
    title: str
