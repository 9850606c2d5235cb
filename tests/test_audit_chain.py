"""The history's hash chain: an event edited, deleted or inserted directly in the database is named
by `throughline audit verify` (exit 1, one line, its id and time); a clean chain exits 0 with its
count and an anchor that catches a rewrite of the whole chain; writers at once keep one chain; the
migration chains the events stored before it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.audit.models import Anchor
from bot.audit.service import verify
from bot.core import history
from storage import migrate
from storage.chain import GENESIS, event_hash
from storage.db import Database
from storage.models import Event, EventChain
from tests.conftest import START
from tests.test_cli import run_cli

TEAM, OTHER = "T0FAKE", "T0OTHER"


def write(db: Database, team: str = TEAM, count: int = 10, per_commit: int = 1) -> None:
    for n in range(0, count, per_commit):
        with db.session() as s:
            for k in range(n, min(count, n + per_commit)):
                history.record(
                    s,
                    team_id=team,
                    subject=f"initiative:{k}",
                    kind="checkin.answered",
                    at=START + timedelta(hours=k, microseconds=k * 7),
                    actor_id="U0ALICE",
                    moved=f"step {k}",
                    progress=k * 2.5,
                    whole=float(k),
                    nested={"b": [1, "x"], "a": None},
                )


def audit(db: Database, *args: str):
    return run_cli("audit", "verify", *args, env={"DATABASE_URL": db.url})


def event_at(db: Database, seq: int, team: str = TEAM) -> Event:
    with db.read() as s:
        return s.scalars(sa.select(Event).where(Event.team_id == team, Event.seq == seq)).one()


def test_a_clean_chain_exits_0_with_its_count_and_an_anchor(db: Database) -> None:
    write(db, count=12, per_commit=5)
    write(db, OTHER, count=3)
    result = audit(db)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"{TEAM}: 12 events, the chain is whole; anchor 12:")
    assert lines[1].startswith(f"{OTHER}: 3 events, the chain is whole; anchor 3:")
    anchor = Anchor.parse(lines[0].rsplit(" ", 1)[1])
    assert anchor.head == event_at(db, 12).hash
    assert audit(db, "--team", TEAM, "--anchor", str(anchor)).returncode == 0
    with db.read() as s:
        seqs = list(s.scalars(sa.select(Event.seq).where(Event.team_id == TEAM).order_by(Event.id)))
        assert seqs == list(range(1, 13))
        assert s.get(EventChain, TEAM).seq == 12  # type: ignore[union-attr]


def test_an_edited_event_is_named_with_its_id_and_time(db: Database) -> None:
    write(db)
    seventh = event_at(db, 7)
    with db.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE event SET actor_id = 'U0MALLORY' WHERE id = :id"), {"id": seventh.id}
        )
    result = audit(db)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = result.stdout.strip().splitlines()
    assert line.startswith(
        f"{TEAM}: event {seventh.id} (#7, checkin.answered, at 2026-03-02T13:00:00.000042Z)"
    )
    assert line.endswith("was changed: its content no longer gives its hash")
    assert result.stderr.strip().splitlines() == [
        "throughline: error: the history of 1 workspace(s) does not match its chain (see above)"
    ]


def test_an_edited_time_is_named_too(db: Database) -> None:
    write(db)
    third = event_at(db, 3)
    with db.session() as s:
        s.execute(
            sa.update(Event).where(Event.id == third.id).values(at=third.at + timedelta(microseconds=1))
        )
    [line] = audit(db).stdout.strip().splitlines()
    assert f"event {third.id} (#3" in line and "was changed" in line


def test_a_deleted_event_is_named_by_the_gap_it_leaves(db: Database) -> None:
    write(db)
    fourth, fifth, sixth = (event_at(db, n) for n in (4, 5, 6))
    with db.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM event WHERE id = :id"), {"id": fifth.id})
    result = audit(db)
    assert result.returncode == 1
    [line] = result.stdout.strip().splitlines()
    assert line == (
        f"{TEAM}: #5 deleted: the chain goes from event {fourth.id} to event {sixth.id} "
        "(#6, checkin.answered, at 2026-03-02T12:00:00.000035Z)"
    )


def test_deleting_the_last_events_is_seen_from_the_head(db: Database) -> None:
    write(db)
    with db.engine.begin() as connection:
        connection.execute(sa.text("DELETE FROM event WHERE seq >= 9"))
    result = audit(db)
    assert result.returncode == 1
    [line] = result.stdout.strip().splitlines()
    assert line.startswith(f"{TEAM}: #9..#10 deleted: the head is #10, the chain ends after event ")


def test_an_inserted_event_is_named(db: Database) -> None:
    write(db)
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO event (team_id, subject, kind, actor_id, data, at) "
                "VALUES ('T0FAKE', 'initiative:1', 'accepted', 'U0MALLORY', '{}', '2026-03-02 08:30:00')"
            )
        )
        inserted = connection.scalar(sa.text("SELECT max(id) FROM event"))
    result = audit(db)
    assert result.returncode == 1
    [line] = result.stdout.strip().splitlines()
    assert line == (
        f"{TEAM}: event {inserted} (accepted, at 2026-03-02T08:30:00.000000Z) has no place in the chain: "
        "inserted directly, or written by the release before it"
    )


def test_an_event_inserted_in_the_chain_with_a_hash_of_its_own_is_named(db: Database) -> None:
    """Whoever inserts an event with its place and a correct hash, after the head, is still seen:
    the head row says where the chain ends."""
    write(db, count=3)
    last = event_at(db, 3)
    fields = {
        "team_id": TEAM,
        "seq": 4,
        "subject": "initiative:9",
        "kind": "accepted",
        "actor_id": "U0MALLORY",
        "initiative_id": None,
        "data": {},
        "at": START,
    }
    with db.session() as s:
        s.execute(
            sa.insert(Event).values(**fields, prev_hash=last.hash, hash=event_hash(fields, last.hash or ""))
        )
    result = audit(db)
    assert result.returncode == 1
    [line] = result.stdout.strip().splitlines()
    assert "(#4, accepted, at 2026-03-02T07:00:00.000000Z) was inserted after the head (#3)" in line


def test_a_rewritten_chain_passes_alone_and_fails_against_its_anchor(db: Database) -> None:
    """Someone who rewrites every hash from the edited event on (and the head) leaves a chain that is
    whole: only an anchor kept outside the database catches it, which is why it is printed."""
    write(db, count=6)
    clean = audit(db)
    anchor_text = clean.stdout.strip().rsplit(" ", 1)[1]
    with db.session() as s:
        rows = list(s.scalars(sa.select(Event).where(Event.team_id == TEAM).order_by(Event.seq)))
        rows[1].actor_id = "U0MALLORY"
        head = GENESIS
        for row in rows:
            fields = {
                c: getattr(row, c)
                for c in ("team_id", "seq", "subject", "kind", "actor_id", "initiative_id", "data", "at")
            }
            row.prev_hash, row.hash = head, event_hash(fields, head)
            head = row.hash
        s.execute(sa.update(EventChain).where(EventChain.team_id == TEAM).values(head_hash=head))
    assert audit(db).returncode == 0
    result = audit(db, "--team", TEAM, "--anchor", anchor_text)
    assert result.returncode == 1
    [line] = result.stdout.strip().splitlines()
    assert (
        line == f"{TEAM}: the chain no longer holds anchor {anchor_text}: #6 has another hash "
        "(rewritten or cut since)"
    )
    cut = audit(db, "--team", TEAM, "--anchor", f"7:{'a' * 64}")
    assert "it is shorter" in cut.stdout


def test_a_bad_anchor_is_a_usage_error_in_one_line(db: Database) -> None:
    result = audit(db, "--anchor", "12:nothex")
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "--anchor" in line and "is not COUNT:HASH" in line


def test_a_rolled_back_transaction_takes_no_place(db: Database) -> None:
    write(db, count=2)
    with pytest.raises(RuntimeError), db.session() as s:
        history.record(s, team_id=TEAM, subject="initiative:1", kind="accepted", at=START)
        raise RuntimeError("the handler failed")
    write(db, count=1)
    with db.read() as s:
        report = verify.verify(s, TEAM)
    assert report.ok and report.count == 3


def test_writers_at_once_keep_one_chain(db: Database) -> None:
    """Eight writers, each committing events to one workspace (and some to another) as fast as they
    can: on PostgreSQL they wait for each other's head lock, on SQLite for the writer's turn; either
    way each event takes its own place and the chain verifies."""
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        try:
            start.wait()
            for k in range(15):
                with db.session() as s:
                    history.record(s, team_id=TEAM, subject=f"w:{n}", kind="tick", at=START, k=k)
                    if k % 3 == 0:
                        history.record(s, team_id=OTHER, subject=f"w:{n}", kind="tick", at=START, k=k)
                        history.record(s, team_id=TEAM, subject=f"w:{n}", kind="tock", at=START, k=k)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db.read() as s:
        mine, other = verify.verify(s, TEAM), verify.verify(s, OTHER)
    assert mine.ok and mine.count == 8 * (15 + 5)
    assert other.ok and other.count == 8 * 5


def test_the_migration_chains_the_events_stored_before_it(db: Database) -> None:
    migrate.downgrade(db.engine, "e5a9c2d4b6f1")  # the revision before the chain
    try:
        with db.engine.begin() as connection:
            for n in range(7):
                connection.execute(
                    sa.text(
                        "INSERT INTO event (team_id, subject, kind, actor_id, data, at) "
                        "VALUES (:team, 'initiative:1', 'checkin.answered', 'U0ALICE', :data, :at)"
                    ),
                    {
                        "team": (TEAM, OTHER)[n % 2],
                        "data": f'{{"n": {n}, "x": 1.5}}',
                        "at": f"2026-03-0{n + 1} 09:00:00",
                    },
                )
    finally:
        migrate.upgrade(db.engine)
    with db.read() as s:
        rows = s.execute(sa.select(Event.team_id, Event.seq).order_by(Event.id)).all()
        assert [tuple(r) for r in rows] == [
            (TEAM, 1),
            (OTHER, 1),
            (TEAM, 2),
            (OTHER, 2),
            (TEAM, 3),
            (OTHER, 3),
            (TEAM, 4),
        ]
        assert verify.verify(s, TEAM).count == 4 and verify.verify(s, TEAM).ok
        assert verify.verify(s, OTHER).ok
    write(db, count=2)  # the chain goes on from the migrated head
    result = audit(db, "--team", TEAM)
    assert result.returncode == 0 and "6 events, the chain is whole" in result.stdout


def test_events_the_release_before_wrote_during_the_roll_are_chained_by_the_next_commit(db: Database) -> None:
    write(db, count=2)
    with db.engine.begin() as connection:  # an old replica, which knows nothing of the chain
        connection.execute(
            sa.text(
                "INSERT INTO event (team_id, subject, kind, data, at) "
                "VALUES ('T0FAKE', 'initiative:1', 'accepted', '{}', '2026-03-02 10:00:00')"
            )
        )
    assert audit(db).returncode == 1
    write(db, count=1)
    with db.read() as s:
        report = verify.verify(s, TEAM)
        kinds = list(s.scalars(sa.select(Event.kind).where(Event.team_id == TEAM).order_by(Event.seq)))
    assert report.ok and report.count == 4
    assert kinds == ["checkin.answered", "checkin.answered", "accepted", "checkin.answered"]


def test_an_event_in_a_savepoint_rolled_back_takes_no_place_and_the_rest_keep_theirs(db: Database) -> None:
    with db.session() as s:
        history.record(s, team_id=TEAM, subject="initiative:1", kind="kept", at=START)
        with pytest.raises(RuntimeError), s.begin_nested():
            history.record(s, team_id=TEAM, subject="initiative:1", kind="undone", at=START)
            s.flush()
            raise RuntimeError("a twin got there first")
        history.record(s, team_id=TEAM, subject="initiative:1", kind="kept too", at=START)
    with db.read() as s:
        report = verify.verify(s, TEAM)
        kinds = list(s.scalars(sa.select(Event.kind).order_by(Event.seq)))
    assert report.ok and kinds == ["kept", "kept too"]


@pytest.mark.postgres_only
def test_the_head_is_the_last_lock_a_writer_takes_so_writers_never_deadlock_on_it(db: Database) -> None:
    """One writer holds a row lock (an initiative it changed) and then commits an event; another has
    recorded an event and a change to the same row, and commits first. The second waits for the row,
    not while holding the head, so both commit and the chain is whole."""
    from storage.models import Okr

    with db.session() as s:
        s.add(Okr(team_id=TEAM, key="O1", kind="objective", title="Grow", created_at=START, updated_at=START))
    holding, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with db.session() as s:
                okr = s.scalars(sa.select(Okr)).one()
                okr.title = "first"
                s.flush()  # the row is locked until this commits
                holding.set()
                done.wait(5)
                history.record(s, team_id=TEAM, subject="okr:1", kind="first", at=START)
        except BaseException as exc:
            errors.append(exc)

    def second() -> None:
        try:
            holding.wait(5)
            with db.session() as s:
                history.record(s, team_id=TEAM, subject="okr:1", kind="second", at=START)
                okr = s.scalars(sa.select(Okr)).one()
                okr.title = "second"  # flushed at commit: waits for the first writer's row lock
                threading.Timer(0.5, done.set).start()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    with db.read() as s:
        report = verify.verify(s, TEAM)
    assert report.ok and report.count == 2
