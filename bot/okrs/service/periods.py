"""An OKR's period: the one grammar, for the registry and for the digest's pace.

The registry writes a period one way (`2026-Q1`, `2026-H2`, `2026-03` or `2026`, any case) and
`parse_period` accepts only that. What is stored may have come another way (an older import, the
database itself), so `read_period` also reads `Q1 2026`, `2026Q1`, `2026 / H2`, `FY2026`,
`Q1-FY2026` and the like: the digest measures pace against any of them.
"""

from __future__ import annotations

import re
from calendar import monthrange
from dataclasses import dataclass
from datetime import date

from bot.okrs.models import Period

_MONTH = r"(?P<month_year>\d{4})-(?P<month>0[1-9]|1[0-2])"  # 2026-03
_YEAR_FIRST = r"(?P<fy>FY)?(?P<year>\d{4})(?:(?P<sep>\s*[-/ ]?\s*)(?P<part>[QH])(?P<number>[1-4]))?"
_PART_FIRST = r"(?P<part_first>[QH])(?P<number_first>[1-4])\s*[-/ ]?\s*(?:FY)?(?P<year_last>\d{4})"
# matched against the text trimmed and in upper case
_PERIOD = re.compile(rf"^\s*(?:{_MONTH}|{_YEAR_FIRST}|{_PART_FIRST})\s*$")
FIRST_YEAR = 1900


@dataclass(frozen=True)
class _Form:
    year: int
    first_month: int
    months: int
    registry: bool  # written the one way the registry accepts


def _form(value: str) -> _Form | None:
    """What an upper-case period text says, or None when it is no period (`2026-H3` is none)."""
    match = _PERIOD.match(value)
    if not match:
        return None
    if match["month"]:
        return _Form(int(match["month_year"]), int(match["month"]), 1, registry=True)
    if match["year"] is not None:
        year, part, number = int(match["year"]), match["part"] or "", int(match["number"] or 0)
        registry = match["fy"] is None and (not part or match["sep"] == "-")
    else:
        year, part, number = int(match["year_last"]), match["part_first"], int(match["number_first"])
        registry = False
    if not part:
        first_month, count = 1, 12
    elif part == "Q":
        first_month, count = 3 * (number - 1) + 1, 3
    elif number <= 2:
        first_month, count = 6 * (number - 1) + 1, 6
    else:
        return None
    return _Form(year, first_month, count, registry)


def _period(value: str, form: _Form) -> Period:
    last_month = form.first_month + form.months - 1
    end = date(form.year, last_month, monthrange(form.year, last_month)[1])
    return Period(value, date(form.year, form.first_month, 1), end)


def parse_period(text: str) -> Period:
    """Parse a period as the registry writes it; raises ValueError saying which forms are accepted."""
    value = (text or "").strip().upper()
    form = _form(value)
    if form is None or not form.registry:
        raise ValueError(f'period "{text}" should look like 2026-Q1, 2026-H2, 2026-03 or 2026')
    if form.year < FIRST_YEAR:
        raise ValueError(f'period "{text}" is not a year we can use')
    return _period(value, form)


def read_period(text: str | None) -> Period | None:
    """A stored period in any of the forms above (any case, `FY` optional); None for anything
    else, and for a year before 1900."""
    value = (text or "").strip().upper()
    form = _form(value)
    if form is None or form.year < FIRST_YEAR:
        return None
    return _period(value, form)


def quarter_of(day: date) -> str:
    """The quarter `day` is in, as a period: `2026-Q1`."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
