"""The models and the shipped migrations describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

from storage import migrate
from storage.db import Database
from storage.models import Base
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
