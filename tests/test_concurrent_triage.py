"""Two triage decisions on one request at the same moment: exactly one wins, the requester is told
once, and the other decider is told who decided and what. On PostgreSQL the second decision waits for
the first's row lock; on SQLite for the one writer's turn."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core.errors import Conflict
from bot.intake import flows as intake
from storage.db import Database
from storage.models import Event, Initiative, InitiativeState, Okr, Outbox
from tests import factories as f
from tests.conftest import START
from tests.test_intake_domain import TEAM, WS, form, submit


@pytest.fixture
def kr(db: Database) -> Okr:
    with db.session() as s:
        objective = f.okr(s, "O1", now=START, owner_id="U0CAROL", priority=4)
        f.person(s, "U0ALICE", now=START)
        return f.okr(s, "O1-KR1", now=START, parent=objective, owner_id="U0BOB", priority=4)


def _accept(s: Session, initiative_id: int, actor: str) -> None:
    intake.accept(
        s,
        team_id=TEAM,
        initiative_id=initiative_id,
        actor_id=actor,
        owner_id="U0ALICE",
        cadence=None,
        due_date=None,
        settings=WS,
        now=START,
    )


def _decline(s: Session, initiative_id: int, actor: str) -> None:
    intake.decline(
        s, team_id=TEAM, initiative_id=initiative_id, actor_id=actor, reason="not now", settings=WS, now=START
    )


def _someone_waits_for_a_lock(db: Database, timeout: float = 5.0) -> None:
    """Return once another transaction waits for a lock (PostgreSQL), or after a moment (SQLite,
    where the second writer waits for its turn and nothing shows it)."""
    if db.dialect != "postgresql":
        time.sleep(0.3)
        return
    deadline = time.monotonic() + timeout
    with db.engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiting = watcher.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()"
                )
            ).scalar_one()
            if waiting:
                return
            time.sleep(0.02)


Decide = Callable[[Session, int, str], None]


@pytest.mark.parametrize(
    ("first", "second", "said"),
    [
        (_accept, _decline, "REQ-1 was already accepted by <@U0CAROL>. Nothing was changed."),
        (_decline, _accept, "REQ-1 was already declined by <@U0CAROL>. Nothing was changed."),
    ],
    ids=["accept-wins", "decline-wins"],
)
def test_two_decisions_at_once_one_wins(
    db: Database, kr: Okr, first: Decide, second: Decide, said: str
) -> None:
    made = submit(db, form(kr))
    decided = threading.Event()
    errors: dict[str, BaseException] = {}

    def winner() -> None:
        try:
            with db.session() as s:
                first(s, made.id, "U0CAROL")
                decided.set()
                # hold the decision open until the other decider is inside its own transaction
                _someone_waits_for_a_lock(db)
        except BaseException as exc:
            errors["winner"] = exc
            decided.set()

    def loser() -> None:
        decided.wait(10)
        try:
            with db.session() as s:
                second(s, made.id, "U0LEAD")
        except BaseException as exc:
            errors["loser"] = exc

    threads = [threading.Thread(target=winner), threading.Thread(target=loser)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert "winner" not in errors, errors
    assert isinstance(errors.get("loser"), Conflict), errors
    assert errors["loser"].message == said  # type: ignore[attr-defined]
    with db.session() as s:
        initiative = s.get(Initiative, made.id)
        assert initiative is not None
        assert initiative.decided_by == "U0CAROL"
        assert initiative.state in (InitiativeState.ACTIVE, InitiativeState.DECLINED)
        decisions = s.scalars(
            sa.select(Event.kind).where(
                Event.initiative_id == made.id, Event.kind.in_(["request.accepted", "request.declined"])
            )
        ).all()
        assert len(decisions) == 1, decisions
        told = s.scalars(
            sa.select(Outbox.key).where(
                Outbox.channel == "U0DAN",
                sa.or_(Outbox.key.like("%:declined"), Outbox.key.like("%:accepted:U0DAN")),
            )
        ).all()
        assert len(told) == 1, told
