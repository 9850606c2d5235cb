"""Whatever a person types into the Update modal or `/checkin snooze`, it is either recorded or
refused on the field it came from; and what the bot then says never carries it live."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from bot.checkins.flows import absence as checkin_absence
from bot.checkins.flows import answers as checkin_answers
from bot.checkins.models import UpdateBlock, UpdateInput
from bot.checkins.service import schedule as checkins
from bot.core.config import WorkspaceSettings
from bot.core.errors import DomainError, Invalid, InvalidFields
from bot.core.text import clean
from storage.db import Database
from storage.models import CheckinUpdate, Outbox
from tests import factories as f
from tests.conftest import START
from tests.hostile import hostile_text, live_injections

WS = WorkspaceSettings(timezone="Europe/Berlin", teams={"Platform": "U0LEAD"}, triage_leads=["U0LEAD"])
FIELDS = {block.value for block in UpdateBlock}
# mostly empty or sensible, sometimes anything: every field is valid often enough to get recorded
numbers = st.one_of(
    st.none(), st.none(), st.integers(0, 100).map(str), st.text(max_size=8), st.floats().map(str)
)
days = st.one_of(
    st.none(),
    st.none(),
    st.dates(START.date(), START.date() + timedelta(days=300)).map(lambda d: d.isoformat()),
    st.text(max_size=12),
    st.dates().map(lambda d: d.isoformat()),
)


def _world(s: Session) -> str:
    f.person(s, "U0ALICE", now=START)
    objective = f.okr(s, "O1", now=START)
    kr = f.okr(s, "O1-KR1", parent=objective, now=START, metric_unit="%", metric_target=20.0)
    mine = f.initiative(s, kr, now=START, owner_id="U0ALICE", requester_id="U0DAN", number=1)
    waiter = f.initiative(s, objective, now=START, owner_id="U0BOB", number=2)
    f.initiative(s, objective, now=START, owner_id="U0BOB", number=3)
    f.dependency(s, waiter, mine, now=START)
    checkins.schedule_next(s, mine, WS, START - timedelta(days=7))
    return mine.key


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    choice=st.one_of(
        st.sampled_from(["on_track", "at_risk", "blocked", "done"]), st.sampled_from([None, "x"])
    ),
    progress=numbers,
    metric=numbers,
    moved=hostile_text(max_size=3100),
    blockers=hostile_text(max_size=600),
    waiting=st.one_of(
        st.none(), st.sampled_from(["REQ-3", "REQ-2", "REQ-1", "REQ-99", "team:Platform", "team:Nope"])
    ),
    blocked_on=st.one_of(st.none(), st.sampled_from(["U0LEAD", "U0DAN"])),
    needed_by=days,
    milestone=days,
)
@example(  # a circle: refused by dependencies.add, on the modal's "waiting on" field
    choice="at_risk",
    progress=None,
    metric=None,
    moved="",
    blockers="",
    waiting="REQ-2",
    blocked_on=None,
    needed_by=None,
    milestone=None,
)
@example(  # PostgreSQL refuses NUL in text: control characters are dropped before storing
    choice="on_track",
    progress=None,
    metric=None,
    moved="a\x00b\x07",
    blockers="\x00",
    waiting=None,
    blocked_on=None,
    needed_by=None,
    milestone=None,
)
@example(  # everything at once, with injections: recorded, and told to the requester escaped
    choice="blocked",
    progress="40",
    metric="15.5",
    moved="<!channel>",
    blockers="<@UEVIL0001> & co",
    waiting="REQ-3",
    blocked_on="U0LEAD",
    needed_by="2026-04-01",
    milestone="2026-05-01",
)
def test_an_update_is_recorded_or_refused_on_its_field(
    db: Database,
    choice: str | None,
    progress: str | None,
    metric: str | None,
    moved: str,
    blockers: str,
    waiting: str | None,
    blocked_on: str | None,
    needed_by: str | None,
    milestone: str | None,
) -> None:
    with Session(db.engine) as s:
        key = _world(s)
        values = UpdateInput(
            choice=choice,
            progress=progress,
            metric=metric,
            moved=moved,
            blockers=blockers,
            blocked_on_id=blocked_on,
            waiting_on=waiting,
            needed_by=needed_by,
            next_milestone=milestone,
        )
        try:
            checkin_answers.submit_update(
                s,
                team_id=f.TEAM,
                actor_id="U0ALICE",
                initiative_key=key,
                checkin_id=None,
                values=values,
                settings=WS,
                now=START,
            )
        except InvalidFields as exc:
            event("refused")
            assert set(exc.errors) <= FIELDS and exc.errors
        except Invalid as exc:
            event("refused by the dependency")
            assert exc.field in FIELDS
        else:
            event("recorded")
            (update,) = s.scalars(sa.select(CheckinUpdate))
            assert update.moved == clean(moved) and update.blockers == clean(blockers)
            for payload in s.scalars(sa.select(Outbox.payload)):
                assert live_injections(payload) == [], payload
        finally:
            s.rollback()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(reason=hostile_text(max_size=700))
@example(reason="\x00")
@example(reason="late\x00 again")
def test_a_snooze_reason_is_kept_as_typed_and_shown_escaped(db: Database, reason: str) -> None:
    from bot.checkins.views import command as views

    with Session(db.engine) as s:
        key = _world(s)
        try:
            result = checkin_absence.snooze(
                s,
                team_id=f.TEAM,
                initiative_key=key,
                actor_id="U0ALICE",
                reason=reason,
                settings=WS,
                now=START,
            )
        except DomainError as exc:
            assert isinstance(exc, Invalid) and ("Say why" in exc.message or "under 500" in exc.message)
        else:
            assert result.reason == " ".join(clean(reason).split())
            assert live_injections({"text": views.snoozed(result)}) == []
        finally:
            s.rollback()
