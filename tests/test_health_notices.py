"""A requester of many initiatives hears of health changes once a day, not once a change: the first
change of the day is a DM, the day's later ones join it in place (an edit does not notify), and
the next day starts a new DM. Through Slack's HTTP door, against the fake Slack."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from storage.models import Outbox
from tests.checkin_support import local, notices, nudges, seed
from tests.conftest import Rig
from tests.slackhttp import find_action

MONDAY = local("Europe/Berlin", 2026, 3, 2, 9)


def test_a_days_health_changes_fold_into_one_dm_per_person(rig: Rig) -> None:
    first = seed(rig.db, rig.services.defaults, owner="U0ALICE", requester="U0DAN", title="Cart")
    second = seed(rig.db, rig.services.defaults, owner="U0ALICE", requester="U0DAN", title="Search")
    rig.tick(MONDAY)
    assert len(nudges(rig.fake, "U0ALICE")) == 1  # one DM asks about both

    def answer(key: str, choice: str) -> None:
        current = nudges(rig.fake, "U0ALICE")[-1]
        action = next(
            a
            for a in find_all(current, f"checkin_{choice}")
            if _checkin_of(rig, a) == _pending_checkin(rig, key)
        )
        assert rig.slack.block_action(action, user="U0ALICE", message=current).status == 200
        rig.settle()

    answer(first, "blocked")
    (told,) = notices(rig.fake, "U0DAN")
    assert f"*{first}* Cart is now *blocked*" in told.text and "_You asked for it._" in told.text

    answer(second, "at_risk")
    (told,) = notices(rig.fake, "U0DAN")  # still one DM: edited, which does not notify
    assert f"*{first}* Cart is now *blocked*" in told.text
    assert f"*{second}* Search is now *at risk*" in told.text
    assert len(rig.fake.calls_to("chat.postMessage")) == len(rig.fake.posts())
    with rig.db.session() as s:
        keys = list(
            s.scalars(sa.select(Outbox.key).where(Outbox.key.startswith("health:")).order_by(Outbox.id))
        )
    day = "health:U0DAN:2026-03-02"
    assert keys[0] == day and len(keys) == 2 and keys[1].startswith(f"{day}:update:")

    # the next week's answers are another day: a new DM
    rig.tick(MONDAY + timedelta(weeks=1))
    current = nudges(rig.fake, "U0ALICE")[-1]
    for action in find_all(current, "checkin_on_track"):
        rig.slack.block_action(action, user="U0ALICE", message=current)
        rig.settle()
    rig.tick(MONDAY + timedelta(weeks=2))
    current = nudges(rig.fake, "U0ALICE")[-1]
    rig.slack.block_action(find_action(current, "checkin_blocked"), user="U0ALICE", message=current)
    rig.settle()
    assert len(notices(rig.fake, "U0DAN")) == 2


def find_all(message: object, action_id: str) -> list[dict[str, object]]:
    found = []
    for block in getattr(message, "blocks", None) or []:
        for element in block.get("elements") or ([block["accessory"]] if block.get("accessory") else []):
            if element.get("action_id") == action_id:
                found.append({**element, "block_id": block.get("block_id")})
    return found


def _checkin_of(rig: Rig, action: dict[str, object]) -> int:
    import json

    return int(json.loads(str(action["value"]))["checkin"])


def _pending_checkin(rig: Rig, key: str) -> int:
    from storage.models import Checkin, CheckinStatus, Initiative

    with rig.db.session() as s:
        return int(
            s.scalars(
                sa.select(Checkin.id)
                .join(Initiative, Initiative.id == Checkin.initiative_id)
                .where(Initiative.key == key, Checkin.status == CheckinStatus.PENDING)
            ).one()
        )
