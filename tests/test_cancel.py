"""Cancelling an initiative: `/checkin cancel REQ-17 reason` by the owner, a triage lead or the OKR's
owner; nobody is asked any more, its dependencies close both ways and their escalations resolve."""

from __future__ import annotations

import json

import sqlalchemy as sa

from storage.models import (
    CheckinStatus,
    Dependency,
    DependencyState,
    Escalation,
    Event,
    Initiative,
    InitiativeState,
)
from tests.checkin_support import checkin_rows, initiative, local, nudges, seed
from tests.conftest import Rig
from tests.ladder import build, day


def reply(rig: Rig, text: str, user: str) -> str:
    answer = rig.slack.command("/checkin", text, user=user)
    assert answer.status == 200
    rig.settle()
    return json.dumps(answer.json())


def test_the_owner_cancels_and_nobody_is_asked_any_more(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE", requester="U0DAN")
    rig.tick(local("Europe/Berlin", 2026, 3, 2))
    assert len(nudges(rig.fake, "U0ALICE")) == 1

    shown = reply(rig, f"cancel {key} the customer dropped <it>", "U0ALICE")
    assert "is cancelled" in shown

    item = initiative(rig.db, key)
    assert item.state == InitiativeState.CANCELLED and item.next_checkin_at is None
    assert [c.status for c in checkin_rows(rig.db, key)] == [CheckinStatus.EXCUSED]
    told = [m.text for m in rig.fake.dms("U0DAN") if "cancelled" in m.text]
    assert told and "the customer dropped &lt;it&gt;" in told[0]
    assert rig.fake.dms("U0ALICE")[0].history  # the open check-in's DM now says it is closed
    rig.tick(local("Europe/Berlin", 2026, 3, 9))
    assert len(nudges(rig.fake, "U0ALICE")) == 1  # no new nudge
    with rig.db.session() as s:
        assert s.scalar(sa.select(Event.data).where(Event.kind == "initiative.cancelled")) == {
            "reason": "the customer dropped <it>"
        }


def test_cancelling_a_provider_closes_what_waits_on_it_and_its_escalation(rig: Rig) -> None:
    world = build(rig.db, "blocked")
    rig.tick(day(2))  # level 1
    shown = reply(rig, f"cancel {world.provider_key} out of scope now", "U0BOB")
    assert "1 open dependency closed" in shown
    with rig.db.session() as s:
        (episode,) = s.scalars(sa.select(Escalation))
        assert episode.resolved_at is not None
        provider = s.scalars(sa.select(Initiative).where(Initiative.key == world.provider_key)).one()
        assert provider.state == InitiativeState.CANCELLED
        assert {d.state for d in s.scalars(sa.select(Dependency))} == {DependencyState.CANCELLED}
    assert any("No longer waiting" in m.text for m in rig.fake.dms("U0ALICE"))


def test_only_the_owner_a_triage_lead_or_the_okr_owner_may_cancel(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    assert "Only the owner" in reply(rig, f"cancel {key} I don't like it", "U0MALLORY")
    assert initiative(rig.db, key).state == InitiativeState.ACTIVE
    assert "is cancelled" in reply(rig, f"cancel {key} re-planned", "U0LEAD")
    assert "already cancelled" in reply(rig, f"cancel {key} again", "U0LEAD")
    assert "Add a reason" in reply(rig, f"cancel {key}", "U0ALICE")
