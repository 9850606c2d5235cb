"""The App Home's *Export data*, over HTTP against the fake Slack: an admin clicks it and a zip of
the workspace's data arrives in their DM, uploaded by the outbox; nobody else sees the button, and a
forged click is refused with nothing sent."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import sqlalchemy as sa

from bot.audit.service import export
from bot.core import history
from storage.models import Outbox
from tests import factories as f
from tests.conftest import START, Rig
from tests.slackfake import visible_text
from tests.slackhttp import find_action
from tests.test_home import open_home


def world(rig: Rig) -> None:
    with rig.db.session() as s:
        okr = f.okr(s, "O1", now=START, title="=cmd|' /C calc'!A0")
        item = f.initiative(s, okr, now=START, number=17, title="Faster checkout")
        f.initiative(s, okr, now=START, number=18, title="Other", team_id="T0OTHER")
        f.checkin_update(s, item, at=START + timedelta(hours=1), moved="-shipped", author_id="U0ALICE")
        history.record_initiative(s, item, "request.accepted", at=START, actor_id="U0LEAD")


def test_an_admin_gets_the_export_as_a_zip_in_their_dm(rig: Rig) -> None:
    world(rig)
    home = open_home(rig, "U0ADMIN")
    assert "Export data" in visible_text(home)
    reply = rig.slack.block_action(find_action(home, "home_export_data"), user="U0ADMIN", view=home)
    assert reply.status == 200
    rig.settle()
    [upload] = rig.fake.files.values()
    # shared into the admin's DM (files go to a conversation, not to a user id)
    [opened] = rig.fake.calls_to("conversations.open")
    assert opened.args["users"] == "U0ADMIN"
    assert upload["completed"] and upload["channel"] == opened.response["channel"]["id"]
    assert upload["channel"].startswith("D")
    assert upload["filename"].startswith("throughline-export-2026-03-02-") and upload["filename"].endswith(
        ".zip"
    )
    assert "1 initiatives" in upload["comment"] and "1 checkin answers" in upload["comment"]
    archive = zipfile.ZipFile(io.BytesIO(upload["content"]))
    assert sorted(archive.namelist()) == sorted(f"{k.name}.csv" for k in export.KINDS)
    initiatives = list(csv.DictReader(io.StringIO(archive.read("initiatives.csv").decode())))
    assert [(r["key"], r["title"], r["team_id"]) for r in initiatives] == [
        ("REQ-17", "Faster checkout", "T0FAKE")
    ]
    okrs = list(csv.DictReader(io.StringIO(archive.read("okrs.csv").decode())))
    assert [r["title"] for r in okrs] == ["'=cmd|' /C calc'!A0"]  # neutralised
    answers = list(csv.DictReader(io.StringIO(archive.read("checkin_answers.csv").decode())))
    assert [(r["author_id"], r["moved"]) for r in answers] == [("U0ALICE", "'-shipped")]
    events = list(csv.DictReader(io.StringIO(archive.read("events.csv").decode())))
    assert [(e["kind"], e["seq"]) for e in events] == [("request.accepted", "1")]
    with rig.db.read() as s:
        [row] = s.scalars(sa.select(Outbox).where(Outbox.method == "upload")).all()
        assert row.channel == "U0ADMIN" and row.key.startswith("export:U0ADMIN:")


def test_a_double_click_sends_one_export(rig: Rig) -> None:
    world(rig)
    home = open_home(rig, "U0ADMIN")
    for _ in range(2):
        rig.slack.block_action(find_action(home, "home_export_data"), user="U0ADMIN", view=home)
    rig.settle()
    assert len(rig.fake.files) == 1


def test_only_admins_see_the_button_and_a_forged_click_is_refused(rig: Rig) -> None:
    world(rig)
    admin_home = open_home(rig, "U0ADMIN")
    mallory_home = open_home(rig, "U0MALLORY")
    assert "home_export_data" not in json.dumps(mallory_home)
    opened_before = len(rig.fake.views_opened())
    rig.slack.block_action(find_action(admin_home, "home_export_data"), user="U0MALLORY", view=mallory_home)
    rig.settle()
    [notice] = rig.fake.views_opened()[opened_before:]
    assert "Only a Throughline admin can export the workspace's data" in visible_text(notice)
    assert rig.fake.files == {}
    with rig.db.read() as s:
        assert s.scalars(sa.select(Outbox).where(Outbox.key.like("export:%"))).all() == []
