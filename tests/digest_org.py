"""A seeded organisation for digest tests: several OKRs, every health, stalls and escalations,
missed check-ins, intake, a previous digest to compare with, an empty and an archived objective.

The digest it is read with covers Fri 27 Feb 16:00 – Fri 6 Mar 16:00 2026, Europe/Berlin
(15:00 UTC both ends).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from storage.models import CheckinStatus, Health, InitiativeState
from tests import factories as f

PERIOD_START = datetime(2026, 2, 27, 15, 0, tzinfo=UTC)
PERIOD_END = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)  # Friday 16:00 in Berlin
NOW = PERIOD_END


def at(day: int, hour: int = 9, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def seed(session: Session) -> dict[str, object]:
    """Create the organisation; returns a few rows tests refer to by name."""
    created = at(1, month=1)
    o1 = f.okr(
        session,
        "O1",
        now=created,
        title="Grow revenue in EMEA",
        owner_id="U0CAROL",
        priority=5,
        url="https://okr.example.com/o1",
    )
    kr11 = f.okr(
        session,
        "O1-KR1",
        now=created,
        parent=o1,
        title="EMEA ARR",
        owner_id="U0CAROL",
        metric_unit="k€",
        metric_start=100,
        metric_target=300,
        metric_current=220,
    )
    kr12 = f.okr(
        session,
        "O1-KR2",
        now=created,
        parent=o1,
        title="Partners signed",
        owner_id="U0ALICE",
        metric_start=0,
        metric_target=10,
        metric_current=10,
    )
    o2 = f.okr(session, "O2", now=created, title="Make the platform reliable", owner_id="U0DAN", priority=4)
    kr21 = f.okr(
        session,
        "O2-KR1",
        now=created,
        parent=o2,
        title="Uptime",
        owner_id="U0DAN",
        metric_unit="%",
        metric_start=99.0,
        metric_target=99.9,
        metric_current=99.5,
    )
    kr22 = f.okr(
        session,
        "O2-KR2",
        now=created,
        parent=o2,
        title="P1 incidents a month",
        owner_id=None,
        metric_start=12,
        metric_target=4,
        metric_current=5,
    )
    f.okr(session, "O3", now=created, title="Build the data team", owner_id="U0LEAD", priority=2)
    o4 = f.okr(session, "O4", now=created, title="Sunset the legacy CRM", priority=5)
    o4.archived_at = at(1, month=2)
    legacy = f.initiative(session, o4, now=at(5, month=1), number=40, title="Export CRM contacts")
    legacy.health = Health.BLOCKED

    def item(number: int, okr, title: str, **kw):  # type: ignore[no-untyped-def]
        kw.setdefault("created_at", at(5, month=1))
        return f.initiative(session, okr, now=kw.pop("now", at(5, month=1)), number=number, title=title, **kw)

    # O1: one of each
    r1 = item(
        1,
        kr11,
        "Checkout in German & French",
        state=InitiativeState.DONE,
        health=Health.ON_TRACK,
        due_date=date(2026, 3, 4),
        done_at=at(3, 14),  # the check-in answered done, below
    )
    r2 = item(2, kr11, "Payment gateway <!channel> migration", health=Health.BLOCKED, health_since=at(2))
    r3 = item(3, kr12, "Partner portal", owner_id="U0BOB", health=Health.AT_RISK, health_since=at(3))
    r4 = item(4, kr11, "Invoice exports", health=Health.ON_TRACK, health_since=at(4))
    r5 = item(
        5,
        kr11,
        "Pricing page A/B test",
        owner_id="U0BOB",
        health=Health.ON_TRACK,
        health_since=at(10, month=2),
        due_date=date(2026, 3, 5),
    )
    r6 = item(6, o1, "Sales playbook", owner_id="U0CAROL", created_at=at(3))
    r7 = item(
        7,
        kr12,
        "Reseller onboarding",
        state=InitiativeState.DONE,
        health=Health.ON_TRACK,
        due_date=date(2026, 3, 20),
        done_at=at(5, 12),
    )
    item(8, kr11, "Tax ID validation", state=InitiativeState.PROPOSED, created_at=at(20, month=2))

    # O2
    r10 = item(
        10,
        kr21,
        "Database failover drill",
        owner_id="U0CAROL",
        health=Health.AT_RISK,
        health_since=at(10, month=2),
        due_date=date(2026, 2, 27),
    )
    r11 = item(
        11, kr21, "Nightly export API", owner_id="U0BOB", health=Health.ON_TRACK, health_since=at(1, month=2)
    )
    r12 = item(
        12,
        kr22,
        "On-call rota tooling",
        owner_id="U0DAN",
        health=Health.ON_TRACK,
        health_since=at(1, month=2),
    )
    item(13, kr22, "Status page", state=InitiativeState.PROPOSED, created_at=at(5, 11))
    item(14, kr22, "Kubernetes upgrade", state=InitiativeState.CANCELLED, created_at=at(2, 10))

    # the history of answers (the chart's eight weeks, and when REQ-1 and REQ-7 were done)
    for row, week_health in (
        (r1, [Health.ON_TRACK] * 7),  # then done, on Tuesday
        (r2, [Health.ON_TRACK] * 4 + [Health.AT_RISK] * 3 + [Health.BLOCKED]),
        (r4, [Health.ON_TRACK] * 3 + [Health.AT_RISK] * 4 + [Health.ON_TRACK]),
        (r5, [Health.ON_TRACK] * 8),
        (r10, [Health.ON_TRACK] * 2 + [Health.AT_RISK] * 6),
        (r11, [Health.ON_TRACK] * 8),
        (r12, [Health.ON_TRACK] * 6 + [Health.AT_RISK] + [Health.ON_TRACK]),
    ):
        for week, health in enumerate(week_health):
            f.checkin_update(session, row, at=PERIOD_END - timedelta(weeks=7 - week, days=2), health=health)
    f.checkin_update(session, r3, at=at(3), health=Health.AT_RISK)
    f.checkin_update(session, r1, at=at(3, 14), health=Health.ON_TRACK, done=True)
    f.checkin_update(session, r7, at=at(5, 12), health=Health.ON_TRACK, done=True)

    # stalls: REQ-2 waits on REQ-11 (at governance), REQ-3 waits on the Data team (level 1)
    d1 = f.dependency(
        session,
        r2,
        r11,
        now=at(16, month=2),
        what="the nightly export endpoint",
        needed_by=at(24, month=2).date(),  # past: stalled by the ladder's own rules too
        stalled_since=at(25, month=2),
        stall_reason="provider silent for 2 check-ins",
    )
    f.escalation(session, d1, opened_at=at(26, month=2), level=3, level_at=at(4), reason="stalled")
    d2 = f.dependency(
        session,
        r3,
        now=at(20, month=2),
        provider_team="Data",
        what="a churn model",
        needed_by=at(1).date(),
        stalled_since=at(2),
        stall_reason="needed-by date passed",
    )
    f.escalation(session, d2, opened_at=at(3), level=1)
    f.dependency(session, r12, r10, now=at(20, month=2), what="failover runbook")
    # under the archived objective: none of this is in the digest
    d3 = f.dependency(
        session,
        legacy,
        now=at(5, month=1),
        provider_team="Data",
        needed_by=at(5, month=1).date(),
        stalled_since=at(6, month=1),
    )
    f.escalation(session, d3, opened_at=at(7, month=1), level=3)
    legacy.owner_id = "U0MALLORY"
    f.checkin(session, legacy, slot_at=at(2, 8), status=CheckinStatus.MISSED)

    # check-ins whose slot fell in the period
    for row, status in (
        (r1, CheckinStatus.ANSWERED),
        (r2, CheckinStatus.ANSWERED),
        (r3, CheckinStatus.MISSED),
        (r4, CheckinStatus.ANSWERED),
        (r5, CheckinStatus.MISSED),
        (r6, CheckinStatus.EXCUSED),
        (r7, CheckinStatus.SNOOZED),
        (r10, CheckinStatus.MISSED),
        (r11, CheckinStatus.ANSWERED),
        (r12, CheckinStatus.PENDING),
    ):
        f.checkin(session, row, slot_at=at(2, 8), status=status)
    f.checkin(session, r3, slot_at=at(23, 8, month=2), status=CheckinStatus.MISSED)  # the period before

    # the digest posted a week earlier: what it saw at risk, which the next one compares with
    for row in (r2, r4, r10):
        row.digest_health = Health.AT_RISK
    f.digest(
        session,
        period_start=date(2026, 2, 20),
        period_end=date(2026, 2, 27),
        created_at=PERIOD_START,
        summary={
            "version": 2,
            "kr_progress": {"O1-KR1": 0.5, "O2-KR1": 0.6},
            "kr_at_target": [],
        },
    )
    return {"blocked": r2, "provider": r11, "kr": kr11}
