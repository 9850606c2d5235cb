"""A large organisation: 10,000 initiatives under 300 OKRs. The digest costs the same statements
as for a small one and still fits in one Slack message."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from bot.blockkit.blocks import MESSAGE_BLOCKS, SECTION_LIMIT
from bot.digest.service import build as digest_build
from bot.digest.service import periods as digest_periods
from bot.digest.views import chart
from bot.digest.views import message as views
from storage.db import Database
from storage.models import (
    Checkin,
    CheckinStatus,
    CheckinUpdate,
    Dependency,
    DependencyState,
    Escalation,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    OkrKind,
)
from tests import digest_org
from tests import factories as f
from tests.slackfake import validate_blocks
from tests.sqlcount import count_statements
from tests.test_digest import workspace_settings

TEAM = f.TEAM
OBJECTIVES = 60
KRS_PER_OBJECTIVE = 4  # 60 + 240 = 300 OKRs
INITIATIVES = 10_000
HEALTHS = (Health.ON_TRACK, Health.ON_TRACK, Health.AT_RISK, Health.BLOCKED, None)
STATUSES = (CheckinStatus.ANSWERED, CheckinStatus.ANSWERED, CheckinStatus.MISSED, CheckinStatus.PENDING)


def seed_small(db: Database) -> None:
    with db.session() as session:
        o1 = f.okr(session, "O0", now=digest_org.at(1, month=1), title="A small start")
        kr = f.okr(
            session,
            "O0-KR1",
            now=digest_org.at(1, month=1),
            parent=o1,
            metric_start=0,
            metric_target=10,
            metric_current=3,
        )
        row = f.initiative(
            session, kr, now=digest_org.at(2), number=1, health=Health.AT_RISK, digest_health=Health.BLOCKED
        )
        f.checkin_update(session, row, at=digest_org.at(2), health=Health.AT_RISK)
        f.digest(
            session,
            period_start=date(2026, 2, 20),
            period_end=date(2026, 2, 27),
            created_at=digest_org.PERIOD_START,
            summary={"version": 2},
        )


def seed_large(db: Database) -> None:
    """Bulk inserts: 300 OKRs, 10,000 initiatives, their check-ins, answers, stalls, escalations."""
    now = digest_org.at(1, month=1)
    in_week = digest_org.at(3)
    okrs, initiatives, updates, checkins, dependencies, escalations = [], [], [], [], [], []
    next_okr = 1000
    kr_ids = []
    for o in range(OBJECTIVES):
        objective_id = next_okr
        next_okr += 1
        okrs.append(
            dict(
                id=objective_id,
                team_id=TEAM,
                key=f"O{o + 1}",
                kind=OkrKind.OBJECTIVE,
                title=f"Objective {o + 1} " + "with a long and descriptive title " * 3,
                owner_id="U0CAROL",
                period="2026-Q1",
                priority=1 + o % 5,
                created_at=now,
                updated_at=now,
            )
        )
        for k in range(KRS_PER_OBJECTIVE):
            kr_ids.append(next_okr)
            okrs.append(
                dict(
                    id=next_okr,
                    team_id=TEAM,
                    key=f"O{o + 1}-KR{k + 1}",
                    kind=OkrKind.KEY_RESULT,
                    parent_id=objective_id,
                    title=f"Key result {k + 1} of objective {o + 1}",
                    owner_id="U0DAN",
                    period="2026-Q1",
                    priority=3,
                    metric_start=0.0,
                    metric_target=100.0,
                    metric_current=float((o * 7 + k * 13) % 120),
                    created_at=now,
                    updated_at=now,
                )
            )
            next_okr += 1
    for n in range(INITIATIVES):
        number = 10_000 + n
        state = (InitiativeState.ACTIVE,) * 6 + (InitiativeState.DONE, InitiativeState.PROPOSED)
        initiatives.append(
            dict(
                id=number,
                team_id=TEAM,
                number=number,
                key=f"REQ-{number}",
                title=f"Initiative {number} <!here> & a title long enough to need cutting " * 2,
                requester_id="U0DAN",
                owner_id="U0ALICE" if n % 3 else "U0BOB",
                okr_id=kr_ids[n % len(kr_ids)],
                state=state[n % len(state)],
                health=HEALTHS[n % len(HEALTHS)],
                health_since=in_week if n % 4 == 0 else now,
                due_date=date(2026, 3, 1 + n % 20),
                created_at=in_week if n % 10 == 0 else now,
                updated_at=in_week,
            )
        )
        updates.append(
            dict(
                team_id=TEAM,
                initiative_id=number,
                author_id="U0ALICE",
                health=HEALTHS[n % len(HEALTHS)],
                done=n % 8 == 6,
                created_at=in_week - timedelta(days=n % 50),
                moved="",
                blockers="",
            )
        )
        if n % 2 == 0:
            checkins.append(
                dict(
                    team_id=TEAM,
                    initiative_id=number,
                    owner_id=f"U0OWNER{n % 40}",
                    slot_at=in_week,
                    prompted_at=in_week,
                    status=STATUSES[n % len(STATUSES)],
                )
            )
        if n % 20 == 0:
            dependencies.append(
                dict(
                    id=n + 1,
                    team_id=TEAM,
                    waiter_id=number,
                    provider_team="Data",
                    what="a dataset",
                    state=DependencyState.OPEN,
                    created_by="U0ALICE",
                    created_at=now,
                    stalled_since=now + timedelta(days=n % 30),
                )
            )
            if n % 40 == 0:
                escalations.append(
                    dict(
                        team_id=TEAM,
                        dependency_id=n + 1,
                        level=1 + n % 3,
                        reason="stalled",
                        opened_at=in_week,
                        level_at=in_week,
                    )
                )
    with db.session() as session:
        session.execute(sa.insert(Okr), [o for o in okrs if o["kind"] == OkrKind.OBJECTIVE])
        session.execute(sa.insert(Okr), [o for o in okrs if o["kind"] == OkrKind.KEY_RESULT])
        session.execute(sa.insert(Initiative), initiatives)
        session.execute(sa.insert(CheckinUpdate), updates)
        session.execute(sa.insert(Checkin), checkins)
        session.execute(sa.insert(Dependency), dependencies)
        session.execute(sa.insert(Escalation), escalations)


def test_ten_thousand_initiatives_cost_the_same_statements_and_fit_one_message(db: Database) -> None:
    settings = workspace_settings()
    period = digest_periods.scheduled_period(settings, digest_org.NOW)
    assert period is not None
    seed_small(db)
    with db.session() as session, count_statements(db.engine) as small:
        digest_build.build(session, TEAM, settings, period)

    seed_large(db)
    with db.session() as session, count_statements(db.engine) as large:
        data = digest_build.build(session, TEAM, settings, period)

    assert large.count == small.count, "\n\n".join(large.sql)
    assert (
        len(data.objectives) == OBJECTIVES + 1 and len(data.key_results) == OBJECTIVES * KRS_PER_OBJECTIVE + 1
    )
    assert data.health.total > 7000 and data.stalls == INITIATIVES // 20

    rendered = views.render(data)
    dicts = [b.to_dict() for b in rendered.blocks]
    validate_blocks(dicts, MESSAGE_BLOCKS)  # what Slack would accept
    assert len(dicts) <= MESSAGE_BLOCKS
    for block in dicts:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= SECTION_LIMIT
    text = views.as_text(rendered.blocks)
    assert "<!here>" not in text
    assert "more objectives*, lower in priority" in text and "`/initiative okr O" in text
    assert chart.render(data).startswith(chart.PNG_MAGIC)
    previewed = views.render(
        data, note=views.preview_note(settings, digest_periods.next_digest_at(settings, digest_org.NOW))
    )  # one block more
    validate_blocks([b.to_dict() for b in previewed.blocks], MESSAGE_BLOCKS)
