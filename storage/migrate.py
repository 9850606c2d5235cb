"""Alembic migrations shipped inside the package: `throughline db upgrade` and the start-up check."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
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


# PostgreSQL: how long one migration statement may wait for a lock, and run, before the upgrade
# stops (settings THROUGHLINE_MIGRATION_LOCK_TIMEOUT / _STATEMENT_TIMEOUT; see docs/upgrading.md)
LOCK_TIMEOUT = 5.0
STATEMENT_TIMEOUT = 60.0


class MigrationBlocked(Exception):
    """A migration step waited too long for a lock, or ran too long; nothing of it was kept."""


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


def upgrade(
    engine: Engine,
    revision: str = "head",
    *,
    lock_timeout: float = LOCK_TIMEOUT,
    statement_timeout: float = STATEMENT_TIMEOUT,
) -> None:
    """Bring the schema up to `revision`. Safe to run from several replicas at once on PostgreSQL
    (they take turns), and on a database in use: see `storage.online` and docs/upgrading.md.

    Raises NotThroughline, changing nothing, when the database has tables but no Throughline
    revision: a URL pointing at another application's database must not get our tables.
    Raises MigrationBlocked when a step met a lock held too long (or ran too long): the database
    stays at the last revision applied in full."""
    with _migrating(engine, lock_timeout, statement_timeout) as connection:
        others = foreign_tables(connection)
        connection.rollback()
        if others:
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            raise NotThroughline(
                f"the database holds tables ({shown}) but no Throughline schema; "
                "point DATABASE_URL at an empty database or at Throughline's own"
            )
        command.upgrade(alembic_config(connection), revision)


def downgrade(
    engine: Engine,
    revision: str,
    *,
    lock_timeout: float = LOCK_TIMEOUT,
    statement_timeout: float = STATEMENT_TIMEOUT,
) -> None:
    with _migrating(engine, lock_timeout, statement_timeout) as connection:
        command.downgrade(alembic_config(connection), revision)


@contextmanager
def _migrating(engine: Engine, lock_timeout: float, statement_timeout: float) -> Iterator[sa.Connection]:
    """A connection outside any transaction (each revision commits on its own), holding the
    migration lock, with the timeouts set for its session on PostgreSQL and reset afterwards."""
    with engine.connect() as connection:
        postgres = connection.dialect.name == "postgresql"
        if postgres:
            # waits for another replica's upgrade, however long: the timeouts come after
            connection.execute(sa.text("SELECT pg_advisory_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
            connection.execute(
                sa.text(
                    "SELECT set_config('lock_timeout', :lock, false), "
                    "set_config('statement_timeout', :stmt, false)"
                ),
                {"lock": f"{round(lock_timeout * 1000)}ms", "stmt": f"{round(statement_timeout * 1000)}ms"},
            )
            connection.commit()
        try:
            yield connection
        except sa.exc.DBAPIError as exc:
            blocked = _blocked(exc, lock_timeout, statement_timeout)
            if blocked is None:
                raise
            _rollback(connection)
            raise MigrationBlocked(f"{blocked}; {_where_it_stopped(connection)}") from exc
        finally:
            if postgres:
                _release(connection)


def _rollback(connection: sa.Connection) -> None:
    try:
        connection.rollback()
    except sa.exc.DBAPIError:
        connection.invalidate()


def _release(connection: sa.Connection) -> None:
    if connection.invalidated or connection.closed:
        return
    try:
        connection.rollback()
        connection.exec_driver_sql("RESET lock_timeout")
        connection.exec_driver_sql("RESET statement_timeout")
        connection.execute(sa.text("SELECT pg_advisory_unlock(:id)"), {"id": _ADVISORY_LOCK_ID})
        connection.commit()
    except sa.exc.DBAPIError:
        connection.invalidate()  # the session ends, and its advisory lock and settings with it


def _where_it_stopped(connection: sa.Connection) -> str:
    try:
        revision = MigrationContext.configure(connection).get_current_revision()
        connection.rollback()
    except sa.exc.DBAPIError:
        return "retry `throughline db upgrade`"
    return (
        f"the database stays at revision {revision or 'empty'}: "
        "retry `throughline db upgrade` when the lock is gone"
    )


# SQLSTATE of PostgreSQL's lock_not_available (lock_timeout) and query_canceled (statement_timeout)
_LOCK_NOT_AVAILABLE = "55P03"
_QUERY_CANCELED = "57014"
_TABLE_IN_CONTEXT = re.compile(r'relation "(?P<table>[^"]+)"')
_TABLE_IN_STATEMENT = re.compile(
    r'\b(?:ALTER TABLE|UPDATE|FROM|INTO|ON|LOCK TABLE|TABLE)\s+(?:IF (?:NOT )?EXISTS\s+)?"?(?P<table>\w+)"?',
    re.IGNORECASE,
)


def _blocked(exc: sa.exc.DBAPIError, lock_timeout: float, statement_timeout: float) -> str | None:
    """What stopped a migration step, in words, if it was one of the timeouts."""
    state = getattr(exc.orig, "sqlstate", None)
    if state not in (_LOCK_NOT_AVAILABLE, _QUERY_CANCELED):
        return None
    table = _table_of(exc)
    if state == _LOCK_NOT_AVAILABLE:
        return (
            f"the upgrade stopped: table {table} is locked by another session "
            f"(waited {lock_timeout:g} s, THROUGHLINE_MIGRATION_LOCK_TIMEOUT)"
        )
    return (
        f"the upgrade stopped: a statement on table {table} ran longer than "
        f"{statement_timeout:g} s (THROUGHLINE_MIGRATION_STATEMENT_TIMEOUT)"
    )


def _table_of(exc: sa.exc.DBAPIError) -> str:
    diag = getattr(exc.orig, "diag", None)
    context = getattr(diag, "context", None) or ""
    if found := _TABLE_IN_CONTEXT.search(context):
        return found["table"]
    if found := _TABLE_IN_STATEMENT.search(exc.statement or ""):
        return found["table"]
    return "(unknown)"
