"""The profile cache: time zones from users.info, refreshed when stale, failures retried later."""

from __future__ import annotations

from datetime import timedelta

from bot.core import people
from bot.core.services import make_client
from tests.conftest import START


def test_a_profile_is_fetched_and_cached(db, settings, fake) -> None:
    with db.session() as s:
        person = people.refresh(make_client(settings), s, "T0FAKE", "U0CAROL", START)
        assert (person.tz, person.email, person.profile_fetched_at) == (
            "Asia/Kolkata",
            "carol@example.com",
            START,
        )
    with db.session() as s:
        assert people.stale(s, START + timedelta(days=6)) == []
        assert people.stale(s, START + timedelta(days=8)) == [("T0FAKE", "U0CAROL")]


def test_a_profile_slack_will_not_give_is_retried_in_an_hour_not_every_tick(db, settings, fake) -> None:
    client = make_client(settings)
    with db.session() as s:
        people.refresh(client, s, "T0FAKE", "U0GONE", START)  # users.info: user_not_found
        people.refresh(client, s, "T0FAKE", "U0ALICE", START)
    with db.session() as s:
        people.ensure(s, "T0FAKE", "U0NEW", START)  # never fetched: first in line
        assert people.stale(s, START + timedelta(minutes=5)) == [("T0FAKE", "U0NEW")]
        assert ("T0FAKE", "U0GONE") in people.stale(s, START + timedelta(hours=1, minutes=1))


def test_an_unknown_zone_from_slack_keeps_the_one_we_had(db, settings, fake) -> None:
    fake.add_user("U0ODD", "odd", tz="Mars/Olympus_Mons")
    with db.session() as s:
        person = people.ensure(s, "T0FAKE", "U0ODD", START)
        person.tz = "Europe/Berlin"
        person = people.refresh(make_client(settings), s, "T0FAKE", "U0ODD", START)
        assert person.tz == "Europe/Berlin"
