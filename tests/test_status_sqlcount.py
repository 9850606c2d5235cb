"""No per-row queries: `/initiative`, the card and the Home run as many statements with 5,000
initiatives as with 10."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa

from storage.models import Checkin, CheckinStatus, CheckinUpdate, Dependency, Health, Initiative, Okr
from tests import factories as f
from tests.conftest import START, Rig
from tests.sqlcount import count_statements

FORMS: dict[str, Callable[[Rig], object]] = {
    "/initiative REQ-1": lambda rig: rig.slack.command("/initiative", "REQ-1", user="U0ALICE"),
    "/initiative": lambda rig: rig.slack.command("/initiative", "", user="U0ALICE"),
    "/initiative words": lambda rig: rig.slack.command("/initiative", "bulk initiative", user="U0ALICE"),
    "/initiative okr O1": lambda rig: rig.slack.command("/initiative", "okr O1", user="U0ALICE"),
    "Home": lambda rig: rig.slack.open_home("U0ALICE"),
}


def grow(rig: Rig, okr_id: int, start: int, count: int) -> None:
    """`count` more initiatives of Alice's, each with a pending check-in and an update, each
    waited on by one of Bob's, which also all wait on REQ-1."""
    with rig.db.session() as s:
        okr = s.get(Okr, okr_id)
        assert okr is not None
        alice = f.bulk_initiatives(s, okr, count, now=START, first_number=start, health=Health.AT_RISK)
        bob = f.bulk_initiatives(s, okr, count, now=START, first_number=100_000 + start, owner_id="U0BOB")
        req1 = s.scalar(sa.select(Initiative.id).where(Initiative.key == "REQ-1"))
        f.bulk_rows(
            s,
            Checkin,
            [
                {
                    "initiative_id": i,
                    "owner_id": "U0ALICE",
                    "slot_at": START,
                    "prompted_at": START,
                    "status": CheckinStatus.PENDING,
                }
                for i in alice
            ],
        )
        f.bulk_rows(
            s,
            CheckinUpdate,
            [{"initiative_id": i, "author_id": "U0ALICE", "moved": "x", "created_at": START} for i in alice],
        )
        pairs = [*zip(alice, bob, strict=True), *((req1, b) for b in bob)]
        f.bulk_rows(
            s,
            Dependency,
            [
                {"waiter_id": b, "provider_id": a, "created_by": "U0BOB", "created_at": START}
                for a, b in pairs
            ],
        )
        if start == 1:
            item = s.get(Initiative, req1)
            assert item is not None
            f.triage_post(s, item, now=START)
            for n in range(3):
                f.checkin_update(s, item, at=START + timedelta(hours=n), moved=f"update {n}")


def measure(rig: Rig) -> dict[str, int]:
    counts = {}
    for name, run in FORMS.items():
        with count_statements(rig.db.engine) as seen:
            run(rig)
            rig.settle()
        counts[name] = seen.count
    return counts


def test_statement_counts_do_not_grow_with_the_number_of_initiatives(rig: Rig) -> None:
    with rig.db.session() as s:
        okr_id = f.okr(s, "O1", now=START).id
    grow(rig, okr_id, 1, 10)
    small = measure(rig)
    grow(rig, okr_id, 11, 4990)
    large = measure(rig)
    assert large == small
    assert small["/initiative REQ-1"] <= 12 and small["/initiative"] <= 10 and small["Home"] <= 10
    # and the answers show the large numbers, so the counts above measured real work
    body = rig.slack.command("/initiative", "", user="U0ALICE").json()
    assert (
        "You own 5000 open initiative(s); 5000 check-in(s) due from you; 10000 wait(s) on you" in body["text"]
    )
    rig.slack.open_home("U0ALICE")
    rig.settle()
    assert len(rig.fake.home["U0ALICE"]["blocks"]) <= 100
