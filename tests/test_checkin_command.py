"""`/checkin`: the forms, parsed (property-tested: any text either parses or gets a usage reply),
and each carried out over HTTP: list, snooze, out of office, back, cadence, owner."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.checkins.models import CheckinCommand, CommandKind
from bot.checkins.service.command import parse
from bot.core.errors import Invalid
from storage.models import CheckinStatus
from tests.checkin_support import checkin_rows, initiative, local, notices, nudges, seed
from tests.conftest import Rig
from tests.hostile import hostile_text, live_injections
from tests.slackhttp import find_action


def berlin(day: int, hour: int = 9, minute: int = 0):  # type: ignore[no-untyped-def]
    return local("Europe/Berlin", 2026, 3, day, hour, minute)


# -- the parser ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", CheckinCommand(CommandKind.LIST)),
        ("  list ", CheckinCommand(CommandKind.LIST)),
        ("help", CheckinCommand(CommandKind.HELP)),
        (
            "snooze req-17 at the   offsite",
            CheckinCommand(CommandKind.SNOOZE, key="REQ-17", text="at the offsite"),
        ),
        (
            "snooze REQ-17 R&amp;D day &lt;3",
            CheckinCommand(CommandKind.SNOOZE, key="REQ-17", text="R&D day <3"),
        ),
        ("ooo 2026-04-10", CheckinCommand(CommandKind.OOO, until=date(2026, 4, 10))),
        (
            "ooo until 2026-04-10 Easter",
            CheckinCommand(CommandKind.OOO, until=date(2026, 4, 10), text="Easter"),
        ),
        ("back", CheckinCommand(CommandKind.BACK)),
        (
            "cadence REQ-17 Weekly:TUE@10:00",
            CheckinCommand(CommandKind.CADENCE, key="REQ-17", text="weekly:tue@10:00"),
        ),
        ("cadence REQ-17 workdays", CheckinCommand(CommandKind.CADENCE, key="REQ-17", text="workdays@09:00")),
        ("cadence REQ-17 default", CheckinCommand(CommandKind.CADENCE, key="REQ-17", text="default")),
        ("owner REQ-17 <@U0BOB|bob>", CheckinCommand(CommandKind.OWNER, key="REQ-17", user_id="U0BOB")),
        ("owner REQ-17 <@U0BOB|Bob Smith>", CheckinCommand(CommandKind.OWNER, key="REQ-17", user_id="U0BOB")),
        ("owner REQ-17 U0BOB", CheckinCommand(CommandKind.OWNER, key="REQ-17", user_id="U0BOB")),
    ],
)
def test_forms_parse(text: str, expected: CheckinCommand) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("snooze", "Say which initiative and why"),
        ("snooze REQ-17", "Add a reason"),
        ("snooze nothing here", "Say which initiative and why"),
        ("ooo", "Say through which day"),
        ("ooo tomorrow", "isn't a date; use YYYY-MM-DD"),
        ("ooo 2026-02-30", "isn't a date"),
        ("cadence REQ-17", "Say which initiative and how often"),
        ("cadence REQ-17 daily", "`daily` isn't a cadence"),
        ("owner REQ-17 bob", "Say which initiative and who takes it"),
        ("owner REQ-17 <@U0BOB> <@U0DAN>", "Say which initiative and who takes it"),
        ("back now", "I don't know `/checkin back`"),
        ("<!channel> now", "I don't know `/checkin &lt;!channel&gt;`"),
    ],
)
def test_bad_forms_say_the_right_one(text: str, says: str) -> None:
    with pytest.raises(Invalid) as raised:
        parse(text)
    assert says in raised.value.message


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(hostile_text(), st.text(max_size=80)).map(lambda t: t if len(t) % 3 else f"snooze REQ-1 {t}")
)
def test_any_text_parses_or_gets_a_safe_usage_message(text: str) -> None:
    try:
        command = parse(text)
    except Invalid as exc:
        assert live_injections({"text": exc.message}) == []
        return
    assert isinstance(command, CheckinCommand)
    if command.kind is CommandKind.SNOOZE:
        assert command.text and command.key == command.key.upper()


# -- over HTTP -----------------------------------------------------------------------------------


def test_checkin_lists_what_to_answer_and_answers_from_there(rig: Rig) -> None:
    first = seed(rig.db, rig.services.defaults, owner="U0ALICE", title="Checkout")
    second = seed(rig.db, rig.services.defaults, owner="U0ALICE", title="Search")
    seed(rig.db, rig.services.defaults, owner="U0BOB", title="Not Alice's")
    empty = rig.slack.command("/checkin", "", user="U0ALICE").json()
    assert empty["text"] == "Nothing to answer right now."
    assert "*Next check-ins* (your time)" in json.dumps(empty["blocks"])
    assert "Mon 02 Mar 2026 09:00" in json.dumps(empty["blocks"])

    rig.tick(berlin(2))
    body = rig.slack.command("/checkin", "", user="U0ALICE").json()
    assert body["response_type"] == "ephemeral" and body["text"] == "2 check-in(s) waiting for your answer."
    shown = json.dumps(body["blocks"])
    assert first in shown and second in shown and "Not Alice" not in shown
    assert "Asked Mon 02 Mar 2026 09:00" in shown

    action = find_action(
        body,
        "checkin_at_risk",
        json.dumps(
            {"checkin": checkin_rows(rig.db, first)[0].id, "initiative": first}, separators=(",", ":")
        ),
    )
    rig.slack.block_action(action, user="U0ALICE", channel="C0GENERAL")
    rig.settle()
    (reply,) = rig.fake.responses_all()
    assert reply["replace_original"] is True
    assert reply["text"] == f"Recorded :large_yellow_circle: at risk for *{first}*. Told <@U0DAN>."
    assert "Recorded :large_yellow_circle: *at risk*" in nudges(rig.fake, "U0ALICE")[0].visible
    after = rig.slack.command("/checkin", "", user="U0ALICE").json()
    assert after["text"] == "1 check-in(s) waiting for your answer."


def test_help_and_bad_arguments_answer_with_usage_not_a_trace(rig: Rig) -> None:
    for text in ("help", "snooze", "ooo tomorrow", "owner REQ-1 bob", "what"):
        body = rig.slack.command("/checkin", text, user="U0ALICE").json()
        assert body["response_type"] == "ephemeral"
        shown = json.dumps(body["blocks"])
        assert "/checkin snooze REQ-17 reason" in shown and "/checkin ooo 2026-04-10" in shown
        assert "Traceback" not in shown
    unknown = rig.slack.command("/checkin", "snooze REQ-404 busy", user="U0ALICE").json()
    assert unknown["text"] == ":mag: There's no REQ-404 in this workspace. `/initiative` lists yours."


def test_snoozing_the_open_check_in_keeps_it_from_counting_as_missed(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    rig.tick(berlin(2))
    body = rig.slack.command("/checkin", f"snooze {key} at the <offsite>", user="U0ALICE").json()
    assert body["text"] == (
        f":zzz: The check-in of *{key}* (Mon 02 Mar 2026 09:00) is snoozed: at the &lt;offsite&gt;. "
        "It won't count as missed. The one after is on Mon 09 Mar 2026 09:00."
    )
    rig.settle()
    (row,) = checkin_rows(rig.db, key)
    assert (row.status, row.note) == (CheckinStatus.SNOOZED, "at the <offsite>")
    assert ":zzz: Snoozed: at the &lt;offsite&gt;" in nudges(rig.fake, "U0ALICE")[0].visible
    rig.tick(berlin(3))  # no reminder for a snoozed check-in
    rig.tick(berlin(9))
    assert initiative(rig.db, key).consecutive_misses == 0
    assert [r.status for r in checkin_rows(rig.db, key)] == [CheckinStatus.SNOOZED, CheckinStatus.PENDING]
    assert len(rig.fake.dms("U0ALICE")) == 2


def test_snoozing_before_the_slot_skips_the_next_one(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    body = rig.slack.command("/checkin", f"snooze {key} travelling", user="U0ALICE").json()
    assert body["text"].startswith(f":zzz: The next check-in of *{key}* (Mon 02 Mar 2026 09:00) is snoozed")
    again = rig.slack.command("/checkin", f"snooze {key} again", user="U0ALICE").json()
    assert again["text"] == (
        f":information_source: {key}'s check-in of Mon 02 Mar 2026 09:00 is already snooozed. Nothing "
        "changed; for a longer absence use `/checkin ooo YYYY-MM-DD`."
    ).replace("snooozed", "snoozed")
    rig.tick(berlin(2))
    rig.tick(berlin(3))  # nothing to remind about either
    assert rig.fake.dms("U0ALICE") == []
    rig.tick(berlin(9))
    assert len(nudges(rig.fake, "U0ALICE")) == 1
    assert [r.status for r in checkin_rows(rig.db, key)] == [CheckinStatus.SNOOZED, CheckinStatus.PENDING]


def test_only_the_owner_snoozes(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    body = rig.slack.command("/checkin", f"snooze {key} nope", user="U0MALLORY").json()
    assert (
        body["text"] == f":no_entry: Only the owner can snooze this check-in on {key}. Nothing was changed."
    )


def test_out_of_office_excuses_slots_instead_of_nudging(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    rig.tick(berlin(2))
    body = rig.slack.command("/checkin", "ooo 2026-03-13 skiing & <b>snow</b>", user="U0ALICE").json()
    assert body["text"].startswith(
        ":palm_tree: You're out of office through Fri 13 Mar 2026 (skiing &amp; &lt;b&gt;snow&lt;/b&gt;)."
    )
    listed = json.dumps(rig.slack.command("/checkin", "", user="U0ALICE").json()["blocks"])
    assert "out of office through Fri 13 Mar 2026" in listed

    rig.tick(berlin(9))
    assert len(nudges(rig.fake, "U0ALICE")) == 1  # nothing new while out
    rows = checkin_rows(rig.db, key)
    assert [r.status for r in rows] == [CheckinStatus.EXCUSED, CheckinStatus.EXCUSED]
    assert rows[1].note == "out of office until 2026-03-13: skiing & <b>snow</b>"
    assert initiative(rig.db, key).consecutive_misses == 0
    assert ":palm_tree: Excused: out of office until 2026-03-13" in nudges(rig.fake, "U0ALICE")[0].visible

    rig.tick(berlin(16))
    assert len(nudges(rig.fake, "U0ALICE")) == 2


def test_back_early_resumes_check_ins(rig: Rig) -> None:
    seed(rig.db, rig.services.defaults, owner="U0ALICE")
    rig.slack.command("/checkin", "ooo 2026-03-20", user="U0ALICE")
    rig.tick(berlin(2))
    assert nudges(rig.fake, "U0ALICE") == []
    body = rig.slack.command("/checkin", "back", user="U0ALICE").json()
    assert body["text"] == ":wave: Welcome back! Check-ins resume at their next slot."
    rig.tick(berlin(9))
    assert len(nudges(rig.fake, "U0ALICE")) == 1


def test_a_date_in_the_past_is_refused(rig: Rig) -> None:
    body = rig.slack.command("/checkin", "ooo 2026-03-01", user="U0ALICE").json()
    assert body["text"] == ":warning: 2026-03-01 is in the past; give the last day you are out."


def test_changing_the_cadence_reschedules_in_the_owners_zone(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0BOB")  # Los Angeles
    refused = rig.slack.command("/checkin", f"cadence {key} workdays", user="U0MALLORY").json()
    assert refused["text"] == (
        ":no_entry: Only the owner, the OKR's owner or a triage lead can change the owner or cadence "
        f"on {key}. Nothing was changed."
    )

    body = rig.slack.command("/checkin", f"cadence {key} weekly:tue@10:00", user="U0LEAD").json()
    la = local("America/Los_Angeles", 2026, 3, 3, 10)
    assert initiative(rig.db, key).cadence == "weekly:tue@10:00"
    assert initiative(rig.db, key).next_checkin_at == la
    assert body["text"] == (
        f":calendar: *{key}* is now checked in weekly on Tuesday at 10:00, in its owner's time zone. "
        "Next: Tue 03 Mar 2026 10:00 their time (Tue 03 Mar 2026 19:00 yours)."
    )
    rig.settle()
    (told,) = notices(rig.fake, "U0BOB")
    assert "<@U0LEAD> changed the check-ins" in told.text and "Tue 03 Mar 2026 10:00" in told.text

    rig.tick(local("America/Los_Angeles", 2026, 3, 2, 9))
    assert nudges(rig.fake, "U0BOB") == []
    rig.tick(la)
    assert len(nudges(rig.fake, "U0BOB")) == 1

    rig.slack.command("/checkin", f"cadence {key} default", user="U0BOB")
    assert initiative(rig.db, key).cadence is None
    assert initiative(rig.db, key).next_checkin_at == local("America/Los_Angeles", 2026, 3, 9)


def test_handing_over_excuses_the_old_owner_and_asks_the_new_one(rig: Rig) -> None:
    key = seed(rig.db, rig.services.defaults, owner="U0ALICE")
    rig.tick(berlin(2))
    (old_dm,) = nudges(rig.fake, "U0ALICE")
    stale = find_action(old_dm, "checkin_on_track")

    body = rig.slack.command("/checkin", f"owner {key} <@U0BOB|bob>", user="U0ALICE").json()
    assert body["text"].startswith(f":handshake: <@U0BOB> now owns *{key}*")
    # Bob's zone was fetched as he became the owner: his first slot is 09:00 in Los Angeles, today
    assert "Mon 02 Mar 2026 09:00 their time (Mon 02 Mar 2026 18:00 yours)" in body["text"]
    rig.settle()
    assert initiative(rig.db, key).owner_id == "U0BOB"
    assert [r.status for r in checkin_rows(rig.db, key)] == [CheckinStatus.EXCUSED]
    assert (
        ":arrow_right: Handed over to <@U0BOB>: nothing to answer." in nudges(rig.fake, "U0ALICE")[0].visible
    )
    (welcome,) = notices(rig.fake, "U0BOB")
    assert welcome.text.startswith(f":handshake: You now own *{key}*")
    assert (
        "weekly on Monday at 09:00 your time; the first check-in is on Mon 02 Mar 2026 09:00" in welcome.text
    )

    rig.slack.block_action(stale, user="U0ALICE", message=old_dm)
    rig.settle()
    assert "Only the owner can post a check-in" in rig.fake.responses_all()[-1]["text"]

    rig.tick(berlin(2, 17))
    assert nudges(rig.fake, "U0BOB") == []
    rig.tick(local("America/Los_Angeles", 2026, 3, 2, 9))
    assert len(nudges(rig.fake, "U0BOB")) == 1 and len(nudges(rig.fake, "U0ALICE")) == 1
    assert initiative(rig.db, key).consecutive_misses == 0

    same = rig.slack.command("/checkin", f"owner {key} <@U0BOB|bob>", user="U0BOB").json()
    assert same["text"] == f":warning: <@U0BOB> already owns {key}."
