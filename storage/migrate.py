"""Alembic migrations shipped inside the package: `throughline db upgrade` and the start-up check."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"
# any constant: replicas starting at once take turns upgrading
_ADVISORY_LOCK_ID = 7_240_531_889


class NotThroughline(Exception):
    """The database holds tables but no Throughline schema revision: something else lives there."""


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def foreign_tables(connection: sa.Connection) -> list[str]:
    """The tables of a database with no Throughline revision (empty for an empty database, and for
    one Throughline has migrated)."""
    if MigrationContext.configure(connection).get_current_revision() is not None:
        return []
    return sorted(name for name in sa.inspect(connection).get_table_names() if name != "alembic_version")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to `revision`. Safe to run from several replicas at once on PostgreSQL.

    Raises NotThroughline, changing nothing, when the database has tables but no Throughline
    revision: a URL pointing at another application's database must not get our tables."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
        others = foreign_tables(connection)
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise NotThroughline(
                f"the database holds tables ({shown}) but no Throughline schema; "
                "point DATABASE_URL at an empty database or at Throughline's own"
            )
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)
