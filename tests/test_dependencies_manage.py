"""Changing a dependency or handling its escalation in the domain: who may (the whole table), what
is validated, what both sides are told and what the history records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa

from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, InvalidFields, NotAllowed, NotFound
from bot.dependencies import flows as dependencies
from bot.dependencies import service as dependency_service
from bot.escalation import flows as escalation
from bot.escalation.service import episodes
from storage.db import Database
from storage.models import Dependency, DependencyState, Escalation, Event, Outbox
from tests import factories as f
from tests.ladder import World, build, day

# Dan leads Platform (the providing team); Lead is a triage lead only; Erin is the named contact.
WS = WorkspaceSettings(
    timezone="Europe/Berlin",
    triage_leads=["U0LEAD"],
    governance_members=["U0GOV"],
    admins=["U0ADMIN"],
    teams={"Platform": "U0DAN"},
    governance_channel="C0GOVERN",
)
NOW = day(9)

Call = Callable[[Any, World, str], Any]


def _common(world: World, user: str) -> dict[str, Any]:
    return {"team_id": f.TEAM, "actor_id": user, "settings": WS, "now": NOW}


def _dep(world: World, user: str) -> dict[str, Any]:
    return {**_common(world, user), "dependency_id": world.dependency_id}


def _esc(s: Any, world: World, user: str) -> dict[str, Any]:
    escalation_id = s.scalar(sa.select(Escalation.id).where(Escalation.dependency_id == world.dependency_id))
    return {**_common(world, user), "escalation_id": escalation_id}


MANAGE: dict[str, Call] = {
    "renegotiate": lambda s, w, u: dependencies.renegotiate(
        s, **_dep(w, u), needed_by=date(2026, 3, 27), reason="scope"
    ),
    "mark_met": lambda s, w, u: dependencies.mark_met(s, **_dep(w, u)),
    "cancel": lambda s, w, u: dependencies.cancel(s, **_dep(w, u)),
    "open the renegotiate modal": lambda s, w, u: dependency_service.for_managing(
        s, team_id=f.TEAM, dependency_id=w.dependency_id, actor_id=u, settings=WS
    ),
}
HANDLE: dict[str, Call] = {
    "acknowledge": lambda s, w, u: escalation.acknowledge(s, **_esc(s, w, u)),
    "resolve": lambda s, w, u: escalation.resolve(s, **_esc(s, w, u), how="descoped"),
    "snooze": lambda s, w, u: escalation.snooze(s, **_esc(s, w, u), until=date(2026, 3, 13), reason="board"),
    "open the resolve/snooze modal": lambda s, w, u: episodes.for_handling(s, **_esc(s, w, u)),
}
MAY_MANAGE = {"U0ALICE", "U0BOB", "U0CAROL", "U0DAN", "U0ERIN", "U0LEAD"}
MAY_HANDLE = {"U0ALICE", "U0BOB", "U0CAROL", "U0DAN", "U0ERIN", "U0GOV"}
EVERYONE = ["U0ALICE", "U0BOB", "U0CAROL", "U0DAN", "U0ERIN", "U0LEAD", "U0GOV", "U0ADMIN", "U0MALLORY"]


def stalled_world(db: Database, cause: str = "blocked") -> World:
    """The ladder world with an open level-3 escalation and a named contact."""
    world = build(db, cause)
    with db.session() as s:
        dependency = s.get(Dependency, world.dependency_id)
        assert dependency is not None
        dependency.provider_contact_id = "U0ERIN"
        dependency.stalled_since, dependency.stall_reason = day(2), "REQ is blocked"
        f.escalation(s, dependency, now=day(2), level=3)
    return world


def state_of(db: Database, world: World) -> tuple[Any, ...]:
    with db.session() as s:
        dependency = s.get(Dependency, world.dependency_id)
        assert dependency is not None
        (episode,) = s.scalars(sa.select(Escalation).where(Escalation.dependency_id == world.dependency_id))
        return (
            dependency.state,
            dependency.needed_by,
            episode.acknowledged_by,
            episode.snoozed_until,
            episode.resolved_at,
            s.scalar(sa.select(sa.func.count()).select_from(Event)),
            s.scalar(sa.select(sa.func.count()).select_from(Outbox)),
        )


@pytest.mark.parametrize("user", EVERYONE)
@pytest.mark.parametrize("name", [*MANAGE, *HANDLE])
def test_who_may_change_a_dependency_or_handle_its_escalation(db: Database, name: str, user: str) -> None:
    world = stalled_world(db)
    call = {**MANAGE, **HANDLE}[name]
    allowed = user in (MAY_MANAGE if name in MANAGE else MAY_HANDLE)
    before = state_of(db, world)
    if allowed:
        with db.session() as s:
            call(s, world, user)
        return
    with pytest.raises(NotAllowed) as refused, db.session() as s:
        call(s, world, user)
    assert refused.value.message.endswith("Nothing was changed.")
    assert state_of(db, world) == before


def test_another_workspace_cannot_reach_it(db: Database) -> None:
    world = stalled_world(db)
    with pytest.raises(NotFound), db.session() as s:
        dependencies.mark_met(s, **{**_dep(world, "U0ALICE"), "team_id": "T0OTHER"})
    with pytest.raises(NotFound), db.session() as s:
        escalation.acknowledge(s, **{**_esc(s, world, "U0GOV"), "team_id": "T0OTHER"})


def test_renegotiating_checks_the_date_and_reason_in_the_workspace_zone(db: Database) -> None:
    world = stalled_world(db, "overdue")
    cases = [
        (None, "x", {"renegotiate_needed_by": "Pick the new date."}),
        (date(2026, 3, 9), "x", {"renegotiate_needed_by": "Pick a date after today."}),
        (date(2026, 3, 10), "", {"renegotiate_reason": "Say why the date moves: both sides will read it."}),
        (date(2026, 3, 10), "x" * 501, {"renegotiate_reason": "Keep it under 500 characters."}),
    ]
    for needed_by, reason, errors in cases:
        with pytest.raises(InvalidFields) as caught, db.session() as s:
            dependencies.renegotiate(s, **_dep(world, "U0ALICE"), needed_by=needed_by, reason=reason)
        assert caught.value.errors == errors


def test_renegotiating_tells_both_sides_records_both_histories_and_resolves_a_date_stall(
    db: Database,
) -> None:
    world = stalled_world(db, "overdue")
    with db.session() as s:
        dependencies.renegotiate(
            s, **_dep(world, "U0BOB"), needed_by=date(2026, 3, 27), reason="vendor slipped"
        )
    with db.session() as s:
        told = sorted(o.channel for o in s.scalars(sa.select(Outbox)))
        events = s.execute(sa.select(Event.kind, Event.initiative_id, Event.data).order_by(Event.id)).all()
        dependency = s.get(Dependency, world.dependency_id)
        (episode,) = s.scalars(sa.select(Escalation))
    assert told == ["U0ALICE", "U0BOB", "U0ERIN"]  # no governance post was enqueued here: nothing to edit
    assert [(k, i) for k, i, _ in events[:2]] == [
        ("dependency.renegotiated", world.waiter_id),
        ("dependency.renegotiated", world.provider_id),
    ]
    assert events[0][2] == {
        "old_needed_by": "2026-02-27",
        "needed_by": "2026-03-27",
        "reason": "vendor slipped",
    }
    assert [k for k, _, _ in events[2:]] == ["dependency.recovered"] * 2 + ["escalation.resolved"] * 2
    assert (
        dependency is not None
        and dependency.needed_by == date(2026, 3, 27)
        and dependency.stalled_since is None
    )
    assert episode.resolved_by == "U0BOB"
    assert episode.resolution == "the needed-by date moved to Fri 27 Mar 2026: vendor slipped"


def test_renegotiating_leaves_an_escalation_with_another_cause_open(db: Database) -> None:
    world = stalled_world(db, "blocked")
    with db.session() as s:
        dependencies.renegotiate(s, **_dep(world, "U0ALICE"), needed_by=date(2026, 4, 10), reason="later")
        (episode,) = s.scalars(sa.select(Escalation))
        dependency = s.get(Dependency, world.dependency_id)
        assert episode.resolved_at is None
        assert dependency is not None and dependency.stall_reason == (
            f"{world.provider_key} has been blocked since Tue 24 Feb 2026"
        )


@pytest.mark.parametrize(
    ("close", "state"), [("mark_met", DependencyState.MET), ("cancel", DependencyState.CANCELLED)]
)
def test_closing_a_dependency_resolves_its_escalation_once(
    db: Database, close: str, state: DependencyState
) -> None:
    world = stalled_world(db)
    with db.session() as s:
        getattr(dependencies, close)(s, **_dep(world, "U0ALICE"))
    with db.session() as s:
        dependency = s.get(Dependency, world.dependency_id)
        (episode,) = s.scalars(sa.select(Escalation))
        kinds = s.scalars(sa.select(Event.kind).order_by(Event.id)).all()
        told = {o.channel: o.payload["text"] for o in s.scalars(sa.select(Outbox))}
    assert dependency is not None and dependency.state == state and dependency.stalled_since is None
    assert (dependency.met_at is not None) == (state == DependencyState.MET)
    word = state.value
    assert episode.resolved_by == "U0ALICE" and episode.resolution == f"marked {word}"
    assert kinds == [f"dependency.{word}"] * 2 + ["escalation.resolved"] * 2
    assert set(told) == {"U0ALICE", "U0BOB", "U0ERIN"}
    assert told["U0BOB"].startswith(":") and f"<@U0ALICE> marked as {word}" in told["U0BOB"]
    with pytest.raises(Conflict), db.session() as s:
        getattr(dependencies, close)(s, **_dep(world, "U0BOB"))


def test_snooze_and_resolve_validate_their_fields(db: Database) -> None:
    world = stalled_world(db)
    with pytest.raises(InvalidFields) as caught, db.session() as s:
        escalation.snooze(s, **_esc(s, world, "U0GOV"), until=None, reason="")
    assert caught.value.errors == {
        "snooze_until": "Pick the day the escalation resumes.",
        "snooze_reason": "Say why it can wait: the post will show it.",
    }
    with pytest.raises(InvalidFields) as caught, db.session() as s:
        escalation.resolve(s, **_esc(s, world, "U0GOV"), how="x" * 1001)
    assert caught.value.errors == {"resolve_how": "Keep it under 1000 characters."}


def test_open_escalations_for_the_digest(db: Database) -> None:
    world = stalled_world(db)
    with db.session() as s:
        (open_one,) = episodes.open_escalations(s, f.TEAM)
        assert open_one.dependency_id == world.dependency_id
        assert episodes.open_escalations(s, "T0OTHER") == []
