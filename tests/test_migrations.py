"""The models and the shipped migrations describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

from storage import migrate
from storage.db import Database
from storage.models import Base, Health, Initiative
from storage.types import JSONType, UTCDateTime
from tests.conftest import TEST_DATABASE_URL


def test_migrated_database_matches_the_models(db: Database) -> None:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []
    assert migrate.is_current(db.engine)


def test_upgrade_from_empty_and_downgrade_to_empty_on_sqlite(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    migrate.upgrade(database.engine)
    assert migrate.current_revision(database.engine) == migrate.head_revision()
    migrate.upgrade(database.engine)  # a second upgrade is a no-op
    migrate.downgrade(database.engine, "base")
    assert set(sa.inspect(database.engine).get_table_names()) <= {"alembic_version"}
    database.dispose()


@pytest.mark.postgres_only
def test_upgrade_a_fresh_postgresql_database() -> None:
    assert TEST_DATABASE_URL
    name = f"throughline_upgrade_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        database = Database(
            make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
        )
        migrate.upgrade(database.engine)
        assert migrate.is_current(database.engine)
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        database.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrading_from_the_first_release_keeps_the_data_and_fills_troubled_since(db: Database) -> None:
    """A database at the first release's schema, with work in it, upgraded in place: what is at
    risk or blocked counts as troubled since its health last changed; on track is not troubled."""
    migrate.downgrade(db.engine, "faea57ffb2ea")
    since = "2026-02-24 08:00:00+00:00"
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO okr (team_id, key, kind, title, period, priority, created_at, updated_at) "
                "VALUES ('T0FAKE', 'O1', 'objective', 'Grow', '2026-Q1', 3, :at, :at)"
            ),
            {"at": since},
        )
        okr_id = connection.execute(sa.text("SELECT id FROM okr")).scalar_one()
        for number, health in ((1, "blocked"), (2, "at_risk"), (3, "on_track")):
            connection.execute(
                sa.text(
                    "INSERT INTO initiative (team_id, number, key, title, description, requester_id, "
                    "okr_id, impact_level, impact, state, health, health_since, consecutive_misses, "
                    "created_at, updated_at) VALUES ('T0FAKE', :n, :key, 'Work', '', 'U0DAN', :okr, 2, "
                    "'', 'active', :health, :since, 0, :since, :since)"
                ),
                {"n": number, "key": f"REQ-{number}", "okr": okr_id, "health": health, "since": since},
            )

    migrate.upgrade(db.engine)

    with db.session() as session:
        rows = session.execute(
            sa.select(Initiative.key, Initiative.troubled_since).order_by(Initiative.number)
        ).all()
    at = datetime(2026, 2, 24, 8, tzinfo=UTC)
    assert rows == [("REQ-1", at), ("REQ-2", at), ("REQ-3", None)]


def test_upgrading_fills_when_each_done_initiative_was_done(db: Database) -> None:
    """Before `done_at`, the digest took the first check-in answered done, else the
    `initiative.done` event, else the last update: the upgrade stores that once."""
    migrate.downgrade(db.engine, "4efd0b76f7b1")
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO okr (team_id, key, kind, title, period, priority, created_at, updated_at) "
                "VALUES ('T0FAKE', 'O1', 'objective', 'Grow', '2026-Q1', 3, :at, :at)"
            ),
            {"at": datetime(2026, 1, 5, tzinfo=UTC)},
        )
        okr_id = connection.execute(sa.text("SELECT id FROM okr")).scalar_one()
        ids = {}
        for number, state in ((1, "done"), (2, "done"), (3, "done"), (4, "active")):
            ids[number] = connection.execute(
                sa.text(
                    "INSERT INTO initiative (team_id, number, key, title, description, requester_id, "
                    "okr_id, impact_level, impact, state, consecutive_misses, created_at, updated_at) "
                    "VALUES ('T0FAKE', :n, :key, 'Work', '', 'U0DAN', :okr, 2, '', :state, 0, :at, :updated) "
                    "RETURNING id"
                ),
                {
                    "n": number,
                    "key": f"REQ-{number}",
                    "okr": okr_id,
                    "state": state,
                    "at": datetime(2026, 1, 5, tzinfo=UTC),
                    "updated": datetime(2026, 3, 20, tzinfo=UTC),
                },
            ).scalar_one()
        answers = (  # REQ-1: answered done twice; REQ-4 answered done yet is active (it counts for nothing)
            (1, datetime(2026, 3, 2, 9, tzinfo=UTC), True),
            (1, datetime(2026, 3, 9, 9, tzinfo=UTC), True),
            (1, datetime(2026, 2, 23, 9, tzinfo=UTC), False),
            (4, datetime(2026, 3, 2, 9, tzinfo=UTC), True),
        )
        for number, at, done in answers:
            connection.execute(
                sa.text(
                    "INSERT INTO checkin_update (team_id, initiative_id, author_id, done, moved, blockers, "
                    "created_at) VALUES ('T0FAKE', :id, 'U0ALICE', :done, '', '', :at)"
                ),
                {"id": ids[number], "done": done, "at": at},
            )
        connection.execute(  # REQ-2: only the event says so
            sa.text(
                "INSERT INTO event (team_id, subject, kind, at, initiative_id, data) "
                "VALUES ('T0FAKE', 'initiative:2', 'initiative.done', :at, :id, '{}')"
            ),
            {"id": ids[2], "at": datetime(2026, 3, 4, 16, tzinfo=UTC)},
        )

    migrate.upgrade(db.engine)

    with db.session() as session:
        rows = session.execute(
            sa.select(Initiative.key, Initiative.done_at).order_by(Initiative.number)
        ).all()
    assert rows == [
        ("REQ-1", datetime(2026, 3, 2, 9, tzinfo=UTC)),
        ("REQ-2", datetime(2026, 3, 4, 16, tzinfo=UTC)),
        ("REQ-3", datetime(2026, 3, 20, tzinfo=UTC)),  # nothing recorded: its last update
        ("REQ-4", None),
    ]


def test_upgrading_takes_what_the_last_digest_saw_at_risk_or_blocked(db: Database) -> None:
    """Until now each digest stored the initiatives it saw at risk or blocked in its summary; the
    upgrade moves the latest digest's list onto the initiatives (`digest_health`)."""
    migrate.downgrade(db.engine, "1d6096f91ad8")
    at = datetime(2026, 2, 20, 15, tzinfo=UTC)
    digest = sa.table(
        "digest",
        sa.column("team_id", sa.String),
        sa.column("period_start", sa.Date),
        sa.column("period_end", sa.Date),
        sa.column("created_at", UTCDateTime()),
        sa.column("summary", JSONType),
    )
    with db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO okr (team_id, key, kind, title, period, priority, created_at, updated_at) "
                "VALUES ('T0FAKE', 'O1', 'objective', 'Grow', '2026-Q1', 3, :at, :at)"
            ),
            {"at": at},
        )
        okr_id = connection.execute(sa.text("SELECT id FROM okr")).scalar_one()
        for number, state in ((1, "active"), (2, "active"), (3, "active"), (4, "done")):
            connection.execute(
                sa.text(
                    "INSERT INTO initiative (team_id, number, key, title, description, requester_id, "
                    "okr_id, impact_level, impact, state, consecutive_misses, created_at, updated_at) "
                    "VALUES ('T0FAKE', :n, :key, 'Work', '', 'U0DAN', :okr, 2, '', :state, 0, :at, :at)"
                ),
                {"n": number, "key": f"REQ-{number}", "okr": okr_id, "state": state, "at": at},
            )
        connection.execute(
            digest.insert(),
            [
                {  # an older digest: its list is out of date
                    "team_id": "T0FAKE",
                    "period_start": date(2026, 2, 6),
                    "period_end": date(2026, 2, 13),
                    "created_at": at - timedelta(weeks=1),
                    "summary": {"version": 1, "troubled": {"REQ-3": "blocked"}},
                },
                {
                    "team_id": "T0FAKE",
                    "period_start": date(2026, 2, 13),
                    "period_end": date(2026, 2, 20),
                    "created_at": at,
                    "summary": {
                        "version": 1,
                        "troubled": {"REQ-1": "blocked", "REQ-2": "at_risk", "REQ-4": "at_risk"},
                    },
                },
            ],
        )

    migrate.upgrade(db.engine)

    with db.session() as session:
        rows = session.execute(
            sa.select(Initiative.key, Initiative.digest_health).order_by(Initiative.number)
        ).all()
    # REQ-4 is done now: it has no health to compare with
    assert rows == [("REQ-1", Health.BLOCKED), ("REQ-2", Health.AT_RISK), ("REQ-3", None), ("REQ-4", None)]
