"""The simulation's figures, as data (`--json`) and as text: bot DMs per person per week by kind,
the ladder's timing for every stall against its business days, check-ins and escalations."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.simulate.observe import KINDS, Observed

BUSY = 3  # more DMs than this in a week is "a lot"


def _stats(values: list[int]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"mean": 0.0, "p95": 0.0, "max": 0.0}
    rank = max(0, math.ceil(0.95 * len(ordered)) - 1)
    return {
        "mean": round(sum(ordered) / len(ordered), 2),
        "p95": float(ordered[rank]),
        "max": float(ordered[-1]),
    }


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def _at(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


def figures(
    observed: Observed, weeks: int, options: dict[str, Any], seconds: float | None = None
) -> dict[str, Any]:
    """Everything the report says, as plain data (the same seed gives the same figures; the run's
    duration, when given, is the only wall-clock figure)."""
    people = [m.user_id for m in observed.company.members]
    grid: dict[tuple[str, int], Counter[str]] = {(p, w): Counter() for p in people for w in range(weeks)}
    for user, at, kind in observed.dms:
        week = int((at - observed.start) / timedelta(weeks=1))
        if (user, week) in grid:
            grid[(user, week)][kind + "s"] += 1
    per_kind = {kind: _stats([c[kind] for c in grid.values()]) for kind in KINDS}
    outside = [c["nudges"] + c["reminders"] + c["notices"] for c in grid.values()]
    total = [sum(c.values()) for c in grid.values()]
    busy_people = {p for (p, _), c in grid.items() if sum(c.values()) > BUSY}
    weekly = [
        {kind: round(sum(grid[(p, w)][kind] for p in people) / max(1, len(people)), 3) for kind in KINDS}
        for w in range(weeks)
    ]
    stalls = []
    late: dict[int, float] = {1: 0.0, 2: 0.0, 3: 0.0}
    for stall in sorted(observed.stalls.values(), key=lambda s: s.escalation_id):
        levels = {}
        for level in (1, 2, 3):
            reached = stall.reached.get(level)
            expected = stall.expected[level]
            entry: dict[str, Any] = {"expected": _at(expected)}
            if reached is not None:
                lateness = (reached - expected).total_seconds() / 60
                late[level] = max(late[level], lateness)
                entry.update(
                    reached=_at(reached),
                    hours_from_cause=_hours(reached - stall.cause_at),
                    late_minutes=round(lateness, 1),
                )
            levels[str(level)] = entry
        stalls.append(
            {
                "escalation": stall.escalation_id,
                "waiter": stall.waiter,
                "provider": stall.provider,
                "cause": stall.cause,
                "cause_at": _at(stall.cause_at),
                "named_at": _at(stall.named_at),
                "levels": levels,
                "resolved": stall.resolved or "open",
            }
        )
    settings = observed.settings
    return {
        "options": options,
        "ladder_business_days": {
            "stall_blocked_days": settings.stall_blocked_days,
            "escalate_level2_days": settings.escalate_level2_days,
            "escalate_level3_days": settings.escalate_level3_days,
        },
        "dms_per_person_week": {
            **per_kind,
            "outside_escalations": _stats(outside),
            "all": _stats(total),
        },
        "share_person_weeks_over_3": round(sum(t > BUSY for t in total) / max(1, len(total)), 4),
        "share_people_with_a_week_over_3": round(len(busy_people) / max(1, len(people)), 4),
        "weekly_mean_by_kind": weekly,
        "person_weeks_by_dms": {str(k): v for k, v in sorted(Counter(total).items())},
        "stalls": stalls,
        "ladder_late_minutes_max": {str(k): round(v, 1) for k, v in late.items()},
        "stalls_reaching": {
            str(level): sum(level in s.reached for s in observed.stalls.values()) for level in (1, 2, 3)
        },
        "checkins": dict(sorted(observed.checkins.items())),
        "escalations": dict(sorted(observed.escalations.items())),
        "channel_posts": dict(sorted(observed.channel_posts.items())),
        "notices_by_topic": dict(sorted(observed.notice_topics.items())),
        "refused_actions": observed.refused,
        "ticks": observed.ticks,
        "steps": observed.steps,
        **({"seconds": round(seconds, 1)} if seconds is not None else {}),
    }


def text(data: dict[str, Any], *, stall_lines: int = 15) -> str:
    """The report as a reader wants it: the headline first, the detail after."""
    o, d = data["options"], data["dms_per_person_week"]
    ladder = data["ladder_business_days"]
    lines = [
        f"Throughline simulate: {o['people']} people, {o['initiatives']} initiatives, {o['weeks']} weeks, "
        f"seed {o['seed']}" + (f" ({data['seconds']} s)" if "seconds" in data else ""),
        "",
        "Bot DMs per person per week      mean    p95    max",
    ]
    for name in (*KINDS, "outside_escalations", "all"):
        row = d[name]
        label = name.replace("_", " ")
        lines.append(f"  {label:<29}{row['mean']:>6.2f}{row['p95']:>7.0f}{row['max']:>7.0f}")
    lines += [
        f"  person-weeks with more than 3: {data['share_person_weeks_over_3']:.1%}; "
        f"people with such a week: {data['share_people_with_a_week_over_3']:.1%}",
        "  notices: " + (", ".join(f"{k} {v}" for k, v in data["notices_by_topic"].items()) or "none"),
        "",
        f"Ladder: a stall after {ladder['stall_blocked_days']} business days blocked; level 2 "
        f"{ladder['escalate_level2_days']} and level 3 {ladder['escalate_level3_days']} business days "
        "after level 1",
    ]
    reaching, late = data["stalls_reaching"], data["ladder_late_minutes_max"]
    for level in ("1", "2", "3"):
        lines.append(
            f"  level {level}: {reaching[level]} stall(s) reached it, latest {late[level]:.1f} min "
            "after its business-day time"
        )
    for stall in data["stalls"][:stall_lines]:
        parts = []
        for level in ("1", "2", "3"):
            entry = stall["levels"][level]
            if "reached" in entry:
                parts.append(
                    f"L{level} +{entry['hours_from_cause']:.0f}h (late {entry['late_minutes']:.0f}m)"
                )
        named = f" (named {stall['named_at']})" if stall["named_at"] > stall["cause_at"] else ""
        lines.append(
            f"  {stall['waiter']} waits on {stall['provider']}{named}: {stall['cause']} since "
            f"{stall['cause_at']}; " + (", ".join(parts) or "no level yet") + f"; {stall['resolved']}"
        )
    if len(data["stalls"]) > stall_lines:
        lines.append(f"  … and {len(data['stalls']) - stall_lines} more (--json has them all)")
    checkins, escalations = data["checkins"], data["escalations"]
    lines += [
        "",
        "Check-ins: " + (", ".join(f"{k} {v}" for k, v in checkins.items()) or "none"),
        "Escalations: " + (", ".join(f"{k} {v}" for k, v in escalations.items()) or "none"),
        f"({data['ticks']} ticks, {data['steps']} steps)",
    ]
    return "\n".join(lines)
