"""No answer: one reminder after the owner's working hours window, then missed at the next slot."""

from __future__ import annotations

import sqlalchemy as sa

from storage.models import CheckinStatus, Event
from tests.checkin_support import checkin_rows, initiative, local, nudges, reminders, seed
from tests.conftest import Rig
from tests.slackhttp import find_action


def berlin(day: int, hour: int = 9, minute: int = 0, month: int = 3):  # type: ignore[no-untyped-def]
    return local("Europe/Berlin", 2026, month, day, hour, minute)


def test_one_reminder_after_24_working_hours_then_missed_at_the_next_slot(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE", cadence="weekly:fri@09:00")
    rig.tick(berlin(6))  # Friday 09:00
    (nudge,) = nudges(rig.fake, "U0ALICE")
    stale = find_action(nudge, "checkin_at_risk")  # as the owner's Slack client still shows it
    (row,) = checkin_rows(rig.db, key)
    assert row.reminder_due_at == berlin(9)  # 24 working hours: the weekend does not count

    for at in (berlin(7), berlin(8, 18), berlin(9, 8, 59)):
        rig.tick(at)
    assert reminders(rig.fake, "U0ALICE") == []
    rig.tick(berlin(9))
    (reminder,) = reminders(rig.fake, "U0ALICE")
    assert reminder.text == f"Reminder: how is {key} going?"
    assert "I asked on Fri 06 Mar 2026 09:00 and haven't heard back yet" in reminder.visible
    assert "On track" in reminder.visible  # it can be answered right there
    for at in (berlin(9, 9, 1), berlin(10), berlin(12)):
        rig.tick(at)
    assert len(reminders(rig.fake, "U0ALICE")) == 1  # once

    rig.tick(berlin(13))  # the next Friday: still no answer
    first, second = checkin_rows(rig.db, key)
    assert (first.status, first.closed_at, second.status) == (
        CheckinStatus.MISSED,
        berlin(13),
        CheckinStatus.PENDING,
    )
    assert initiative(rig.db, key).consecutive_misses == 1
    assert len(nudges(rig.fake, "U0ALICE")) == 2
    # both earlier messages now say it was missed, without buttons to press
    for message in (nudges(rig.fake, "U0ALICE")[0], reminders(rig.fake, "U0ALICE")[0]):
        assert ":x: Missed: no answer before the next check-in." in message.visible
        assert "On track" not in message.visible
    with rig.db.session() as s:
        missed = s.scalars(sa.select(Event).where(Event.kind == "checkin.missed")).one()
    assert missed.data["consecutive_misses"] == 1 and missed.initiative_id == initiative(rig.db, key).id

    rig.tick(berlin(20))
    assert initiative(rig.db, key).consecutive_misses == 2  # consecutive misses are kept
    latest = nudges(rig.fake, "U0ALICE")[-1]
    rig.slack.block_action(find_action(latest, "checkin_on_track"), user="U0ALICE", message=latest)
    rig.settle()
    assert initiative(rig.db, key).consecutive_misses == 0  # an answer resets them

    # a stale button on the missed slot changes nothing
    rig.slack.block_action(stale, user="U0ALICE", message=nudge)
    rig.settle()
    assert "was recorded as missed" in rig.fake.responses_all()[-1]["text"]


def test_answering_from_the_reminder_edits_both_messages(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    rig.tick(berlin(2))
    rig.tick(berlin(3))
    (reminder,) = reminders(rig.fake, "U0ALICE")
    rig.slack.block_action(find_action(reminder, "checkin_blocked"), user="U0ALICE", message=reminder)
    rig.settle()

    (prompt,) = nudges(rig.fake, "U0ALICE")
    (reminder,) = reminders(rig.fake, "U0ALICE")
    for message in (prompt, reminder):
        assert "Recorded :red_circle: *blocked*, by <@U0ALICE>" in message.visible
        assert "Nothing left to answer here" in message.visible and "On track" not in message.visible
    assert [c.status for c in checkin_rows(rig.db, key)] == [CheckinStatus.ANSWERED]


def test_out_of_office_holds_the_reminder_until_the_owner_is_back(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    rig.tick(berlin(2))
    rig.slack.command("/checkin", "ooo 2026-03-04 at a conference", user="U0ALICE")
    rig.settle()
    rig.tick(berlin(3))
    assert reminders(rig.fake, "U0ALICE") == []
    assert checkin_rows(rig.db, key)[0].reminder_due_at == berlin(5)  # the first working day back
    rig.tick(berlin(4, 12))
    assert reminders(rig.fake, "U0ALICE") == []
    rig.tick(berlin(5))
    assert len(reminders(rig.fake, "U0ALICE")) == 1
