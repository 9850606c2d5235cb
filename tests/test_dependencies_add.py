"""Recording a dependency: validated, authorised, idempotent, and both sides told."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from bot.core.config import WorkspaceSettings
from bot.core.errors import Invalid, NotAllowed
from bot.dependencies import flows as dependencies
from storage.db import Database
from storage.models import Event, Outbox
from tests import factories as f
from tests.conftest import START

WS = WorkspaceSettings(triage_leads=["U0LEAD"], teams={"Platform": "U0LEAD"})


def test_waiting_on_another_initiative_tells_both_owners(db: Database) -> None:
    with db.session() as s:
        okr = f.okr(s, "O1", now=START)
        a = f.initiative(s, okr, now=START, owner_id="U0ALICE", title="Checkout <b>")
        b = f.initiative(s, okr, now=START, owner_id="U0BOB")
        dep = dependencies.add(
            s,
            waiter=a,
            provider=b,
            actor_id="U0ALICE",
            settings=WS,
            now=START,
            what="rate-limit API",
            needed_by=date(2026, 3, 20),
            today=date(2026, 3, 2),
        )
        again = dependencies.add(
            s,
            waiter=a,
            provider=b,
            actor_id="U0ALICE",
            settings=WS,
            now=START,
            what="rate-limit API",
            needed_by=date(2026, 3, 20),
        )
        assert again.id == dep.id
        told = {o.channel: o.payload["text"] for o in s.scalars(sa.select(Outbox))}
        kinds = s.scalars(sa.select(Event.kind)).all()
    assert set(told) == {"U0BOB"}  # Alice recorded it herself: no DM about her own act
    assert "Checkout &lt;b&gt;" in told["U0BOB"] and "rate-limit API" in told["U0BOB"]
    assert kinds == ["dependency.added", "dependency.added"]


def test_waiting_on_a_team_tells_its_lead(db: Database) -> None:
    with db.session() as s:
        a = f.initiative(s, f.okr(s, "O1", now=START), now=START, owner_id="U0ALICE")
        dependencies.add(
            s,
            waiter=a,
            provider_team="Platform",
            actor_id="U0ALICE",
            settings=WS,
            now=START,
            what="a queue",
            needed_by=None,
        )
        assert {o.channel for o in s.scalars(sa.select(Outbox))} == {"U0LEAD"}


@pytest.mark.parametrize("case", ["self", "circle", "past", "nothing", "stranger"])
def test_bad_dependencies_are_refused_on_the_right_field(db: Database, case: str) -> None:
    with db.session() as s:
        okr = f.okr(s, "O1", now=START)
        a = f.initiative(s, okr, now=START, owner_id="U0ALICE")
        b = f.initiative(s, okr, now=START, owner_id="U0BOB")
        dependencies.add(
            s, waiter=b, provider=a, actor_id="U0BOB", settings=WS, now=START, what="x", needed_by=None
        )
        args = {
            "waiter": a,
            "actor_id": "U0ALICE",
            "settings": WS,
            "now": START,
            "what": "x",
            "needed_by": None,
            "today": date(2026, 3, 2),
        }
        expected: type[Exception] = Invalid
        if case == "self":
            args["provider"] = a
        elif case == "circle":
            args["provider"] = b
        elif case == "past":
            args.update(provider_team="Platform", needed_by=date(2026, 3, 1))
        elif case == "stranger":
            args.update(provider_team="Platform", actor_id="U0MALLORY")
            expected = NotAllowed
        with pytest.raises(expected) as caught:
            dependencies.add(s, **args)
        if expected is Invalid:
            assert caught.value.field in ("dependency_provider", "dependency_needed_by")
