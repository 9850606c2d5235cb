"""The models and the shipped migrations describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

from storage import migrate
from storage.db import Database
from storage.models import Base, Initiative
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
