"""Two replicas tick at the same instant with open stalls, closed sides and orphaned escalations:
each tick finishes (no failed step), and every escalation moves exactly once — opened, closed or
resolved by one of them, not by both and not by neither."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

import pytest
import sqlalchemy as sa

from bot.app import tick
from bot.app.tick import TickReport
from storage.models import Dependency, DependencyState, Escalation, Event, Health, InitiativeState
from tests import factories as f
from tests.conftest import START, Rig
from tests.ladder import day

STALLED, CLOSED_SIDE, ORPHANS = 150, 30, 30


def _seed(rig: Rig) -> dict[str, list[int]]:
    """Dependencies of three kinds: stalled on a blocked provider (to open), whose waiter is done
    with an escalation open (to close), and cancelled with an escalation still open (orphans)."""
    ids: dict[str, list[int]] = {"stalled": [], "closed": [], "orphans": []}
    with rig.db.session() as s:
        objective = f.okr(s, "O1", now=START, owner_id="U0CAROL")
        kr = f.okr(s, "O1-KR1", now=START, parent=objective, owner_id="U0CAROL")
        for n in range(STALLED + CLOSED_SIDE + ORPHANS):
            kind = "stalled" if n < STALLED else "closed" if n < STALLED + CLOSED_SIDE else "orphans"
            waiter = f.initiative(
                s, kr, now=START, state=InitiativeState.DONE if kind == "closed" else InitiativeState.ACTIVE
            )
            provider = f.initiative(
                s,
                kr,
                now=START,
                owner_id="U0BOB",
                team_asked="Platform",
                health=Health.BLOCKED,
                health_since=day(24, month=2),
                decided_at=day(2, month=2),
            )
            f.checkin_update(s, provider, at=day(27, month=2), health=Health.BLOCKED, blockers="vendor")
            dependency = f.dependency(
                s,
                waiter,
                provider,
                now=START,
                state=DependencyState.CANCELLED if kind == "orphans" else DependencyState.OPEN,
            )
            if kind != "stalled":
                f.escalation(s, dependency, now=day(1), reason="stalled")
            ids[kind].append(dependency.id)
    return ids


def _ticks_at_once(rig: Rig, at: datetime, n: int = 2) -> list[TickReport]:
    rig.clock.set(at)
    barrier = threading.Barrier(n)
    reports: list[TickReport] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(5)
            reports.append(tick.tick(rig.services, at))
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures
    return reports


@pytest.mark.postgres_only
def test_two_ticks_at_once_each_finish_and_move_every_escalation_once(rig: Rig) -> None:
    ids = _seed(rig)
    reports = _ticks_at_once(rig, day(2))

    assert [r.failed for r in reports] == [{}, {}]
    both = Counter[str]()
    for report in reports:
        both.update(report.counts["escalations"])
    assert both["opened"] == STALLED
    assert both["closed"] == CLOSED_SIDE
    assert both["resolved"] == ORPHANS  # the closed ones resolve as part of "closed"

    with rig.db.session() as s:
        events = Counter(
            (subject, kind)
            for subject, kind in s.execute(sa.select(Event.subject, Event.kind).where(Event.kind.like("%.%")))
        )
        escalations = Counter(s.scalars(sa.select(Escalation.dependency_id)))
        still_open = set(
            s.scalars(sa.select(Escalation.dependency_id).where(Escalation.resolved_at.is_(None)))
        )
        states = {row.id: row.state for row in s.execute(sa.select(Dependency.id, Dependency.state))}
    for dependency_id in ids["stalled"]:
        assert escalations[dependency_id] == 1
        assert dependency_id in still_open
        assert events[(f"dependency:{dependency_id}", "escalation.opened")] == 2  # one per side, once
    for dependency_id in ids["closed"]:
        assert states[dependency_id] == DependencyState.CANCELLED
        assert events[(f"dependency:{dependency_id}", "dependency.cancelled")] == 2
        assert events[(f"dependency:{dependency_id}", "escalation.resolved")] == 2
        assert dependency_id not in still_open
    for dependency_id in ids["orphans"]:
        assert events[(f"dependency:{dependency_id}", "escalation.resolved")] == 2
        assert dependency_id not in still_open
