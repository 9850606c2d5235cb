"""Intake's rules without Slack: user text never comes back live, the queue's order and cost,
who may triage, and one request per submission key."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings

from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, InvalidFields, NotAllowed
from bot.core.text import clean, one_line
from bot.intake import flows as intake
from bot.intake.models import QUEUE_LIMIT, IntakeBlock, RequestForm, Submitted
from bot.intake.service import queue as queueing
from bot.intake.service import triage
from storage.db import Database
from storage.models import Initiative, InitiativeState, Okr, Outbox
from tests import factories as f
from tests.conftest import START
from tests.hostile import hostile_text, live_injections
from tests.sqlcount import count_statements

WS = WorkspaceSettings(
    triage_channel="C0TRIAGE",
    triage_leads=["U0LEAD"],
    admins=["U0ADMIN"],
    teams={"Platform": "U0LEAD"},
    okr_url_patterns=["https://okr.example.com/*"],
)
TEAM = f.TEAM
_nonces = itertools.count()


def form(okr: Okr, **changes: object) -> RequestForm:
    values: dict[str, object] = {
        "title": "Rate limits",
        "description": "Because scrapers",
        "okr_id": str(okr.id),
        "impact_level": "2",
        "needed_by": date(2026, 3, 20),
        "team_asked": "Platform",
        "submission_key": f"nonce-{next(_nonces)}",
    }
    values.update(changes)
    return RequestForm(**values)  # type: ignore[arg-type]


def submit(db: Database, request: RequestForm, requester: str = "U0DAN") -> Submitted:
    with db.session() as s:
        return intake.submit(s, team_id=TEAM, requester_id=requester, form=request, settings=WS, now=START)


@pytest.fixture
def kr(db: Database) -> Okr:
    with db.session() as s:
        objective = f.okr(s, "O1", now=START, owner_id="U0CAROL", priority=4)
        return f.okr(s, "O1-KR1", now=START, parent=objective, owner_id="U0BOB", priority=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=hostile_text(max_size=150), description=hostile_text(max_size=400), impact=hostile_text())
def test_user_text_never_comes_back_live(
    db: Database, kr: Okr, title: str, description: str, impact: str
) -> None:
    request = form(kr, title=title, description=description, impact=impact)
    try:
        made = submit(db, request)
    except InvalidFields as exc:
        assert set(exc.errors) <= {IntakeBlock.TITLE, IntakeBlock.DESCRIPTION}
        assert not one_line(title) or not clean(description)
        return
    with db.session() as s:
        item = s.get(Initiative, made.id)
        assert item is not None and item.title == one_line(title)  # stored as typed
        payloads = s.scalars(sa.select(Outbox.payload).where(Outbox.key.like(f"request:{made.id}:%"))).all()
    assert len(payloads) == 2
    for payload in payloads:
        assert live_injections(payload) == []


def test_one_submission_key_one_request(db: Database, kr: Okr) -> None:
    request = form(kr)
    first, again = submit(db, request), submit(db, request)
    assert first.created and not again.created and first.id == again.id
    with db.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Outbox)) == 2


def test_an_objective_can_be_named_too_and_keys_use_the_prefix(db: Database, kr: Okr) -> None:
    with db.session() as s:
        objective_id = s.scalar(sa.select(Okr.id).where(Okr.key == "O1"))
    made = submit(db, form(kr, okr_id=str(objective_id)))
    assert made.key == "REQ-1"


def test_teams_must_be_configured_ones(db: Database, kr: Okr) -> None:
    with pytest.raises(InvalidFields) as caught:
        submit(db, form(kr, team_asked="Marketing", depends_on_team="Nobody"))
    assert set(caught.value.errors) == {IntakeBlock.TEAM, IntakeBlock.DEPENDS_ON_TEAM}
    assert "Platform" in caught.value.errors[IntakeBlock.TEAM]


def test_depending_on_a_closed_initiative_is_refused(db: Database, kr: Okr) -> None:
    with db.session() as s:
        done = f.initiative(s, s.get(Okr, kr.id), now=START, state=InitiativeState.DONE)  # type: ignore[arg-type]
        done_id = done.id
    with pytest.raises(InvalidFields) as caught:
        submit(db, form(kr, depends_on=[str(done_id)]))
    assert "is done" in caught.value.errors[IntakeBlock.DEPENDS_ON]


def test_the_queue_costs_two_statements_whatever_its_size(db: Database, kr: Okr) -> None:
    with db.session() as s:
        okr_row = s.get(Okr, kr.id)
        assert okr_row is not None
        for n in range(30):
            f.initiative(
                s,
                okr_row,
                now=START,
                state=InitiativeState.PROPOSED,
                impact_level=1 + n % 3,
                created_at=START - timedelta(hours=n),
            )
    with db.session() as s, count_statements(db.engine) as seen:
        found = queueing.queue(s, team_id=TEAM, viewer_id="U0BOB", settings=WS)
    assert seen.count == 2
    assert found.total == 30 and len(found.items) == QUEUE_LIMIT
    weights = [i.weight for i in found.items]
    assert weights == sorted(weights, reverse=True) and weights[0] == 12
    same = [i for i in found.items if i.weight == 12]
    assert [i.created_at for i in same] == sorted(i.created_at for i in same)
    assert all(i.can_triage for i in found.items)  # Bob owns the KR


@pytest.mark.parametrize(
    ("user", "allowed"),
    [("U0LEAD", True), ("U0CAROL", True), ("U0BOB", True), ("U0DAN", False), ("U0ADMIN", False)],
)
def test_who_may_triage(db: Database, kr: Okr, user: str, allowed: bool) -> None:
    made = submit(db, form(kr))
    with db.session() as s:
        if not allowed:
            with pytest.raises(NotAllowed):
                triage.triage_target(s, team_id=TEAM, initiative_id=made.id, actor_id=user, settings=WS)
            return
        target = triage.triage_target(s, team_id=TEAM, initiative_id=made.id, actor_id=user, settings=WS)
        assert target.suggested_owner == "U0LEAD"


def test_a_decided_request_cannot_be_decided_again(db: Database, kr: Okr) -> None:
    made = submit(db, form(kr))
    with db.session() as s:
        f.person(s, "U0ALICE", now=START)
        intake.decline(
            s, team_id=TEAM, initiative_id=made.id, actor_id="U0LEAD", reason="no", settings=WS, now=START
        )
    with db.session() as s, pytest.raises(Conflict) as caught:
        intake.accept(
            s,
            team_id=TEAM,
            initiative_id=made.id,
            actor_id="U0CAROL",
            owner_id="U0ALICE",
            cadence=None,
            due_date=None,
            settings=WS,
            now=START,
        )
    assert caught.value.message == "REQ-1 was already declined by <@U0LEAD>. Nothing was changed."


def test_the_depends_on_select_offers_open_initiatives(db: Database, kr: Okr) -> None:
    with db.session() as s:
        okr_row = s.get(Okr, kr.id)
        assert okr_row is not None
        f.initiative(s, okr_row, now=START, title="Gateway v2", number=7)
        f.initiative(s, okr_row, now=START, title="Gateway v1", number=8, state=InitiativeState.DONE)
        f.initiative(s, okr_row, now=START, title="Billing 50%_off", number=9, state=InitiativeState.PROPOSED)
        assert [c.text for c in queueing.initiative_choices(s, TEAM, "gateway")] == ["REQ-7 · Gateway v2"]
        assert [c.text for c in queueing.initiative_choices(s, TEAM, "req-9")] == ["REQ-9 · Billing 50%_off"]
        # LIKE wildcards typed by a user are literal
        assert [c.text for c in queueing.initiative_choices(s, TEAM, "%")] == ["REQ-9 · Billing 50%_off"]
