"""Migration steps for a database in use: what every migration that touches an existing table uses.

On PostgreSQL the steps run outside the migration's transaction, each committed on its own, so no
step holds a lock for longer than its own statement:
- a column is added nullable, a catalog-only change whose exclusive lock lasts milliseconds;
- an index is built CONCURRENTLY: reads and writes go on while it is built;
- a backfill runs in keyed batches, one short UPDATE each, that find their rows through indexes;
- an old index is dropped CONCURRENTLY, as the last step (nothing after it can fail and need it).
`storage.migrate` sets `lock_timeout` and `statement_timeout` for the session: a step that would
queue behind a long transaction (and make every later reader of the table queue behind it) gives up
instead. If a step fails, the steps this migration already did are undone, newest first, and the
revision stays where it was. Every step is idempotent too, so a retry finishes whatever an undo
could not remove (a process killed mid-way, an undo that itself met the lock).

On SQLite (one process, one file) the same steps run inside the migration's transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

log = logging.getLogger(__name__)

BATCH = 1000


class Steps:
    def __init__(self) -> None:
        self.postgres = op.get_bind().dialect.name == "postgresql"
        self._undo: list[Callable[[], None]] = []

    @property
    def connection(self) -> sa.Connection:
        return op.get_bind()

    def add_column(self, table: str, column: sa.Column[Any]) -> None:
        """Add a nullable column (constraints come after the backfill, in a later step)."""
        if not column.nullable and column.server_default is None:
            raise ValueError(f"{table}.{column.name}: add it nullable, backfill, then constrain it")
        if not self.postgres:
            with op.batch_alter_table(table) as batch:
                batch.add_column(column)
            return
        op.add_column(table, column, if_not_exists=True)
        self._undo.append(
            lambda: self._execute(f'ALTER TABLE "{table}" DROP COLUMN IF EXISTS "{column.name}"')
        )

    def create_index(self, name: str, table: str, columns: Sequence[str], *, unique: bool = False) -> None:
        """Build an index without blocking writes (CONCURRENTLY), replacing an invalid leftover of
        an earlier build that failed."""
        if not self.postgres:
            with op.batch_alter_table(table) as batch:
                batch.create_index(name, list(columns), unique=unique)
            return
        valid = self.connection.execute(
            sa.text("SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass(:name)"), {"name": name}
        ).scalar()
        if valid is False:
            self._execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')
        self._undo.append(lambda: self._execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"'))
        # a build does not block the table, so it may take longer than one ordinary statement;
        # lock_timeout still bounds its waits for the transactions before it
        previous = self.connection.execute(sa.text("SHOW statement_timeout")).scalar_one()
        self._execute("SET statement_timeout = 0")
        try:
            op.create_index(
                name, table, list(columns), unique=unique, postgresql_concurrently=True, if_not_exists=True
            )
        finally:
            self.connection.execute(
                sa.text("SELECT set_config('statement_timeout', :v, false)"), {"v": previous}
            )

    def drop_index(self, name: str, table: str) -> None:
        """Drop an index the new ones replace: the last step of a migration, never undone."""
        if not self.postgres:
            with op.batch_alter_table(table) as batch:
                batch.drop_index(name)
            return
        self._execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')

    def backfill(self, statement: str, batch: int | None = None, **params: Any) -> int:
        """Run `statement` until it changes nothing: an UPDATE of at most `:batch` rows whose id is
        over `:after`, in id order, RETURNING the ids it changed. Each run is one short statement
        (on PostgreSQL committed on its own), so row locks last one batch. Returns the rows changed."""
        after, changed, size = 0, 0, batch or BATCH
        while True:
            ids = (
                self.connection.execute(sa.text(statement), {"after": after, "batch": size, **params})
                .scalars()
                .all()
            )
            if not ids:
                return changed
            changed += len(ids)
            after = max(ids)

    def _execute(self, sql: str) -> None:
        self.connection.exec_driver_sql(sql)

    def undo(self) -> None:
        for step in reversed(self._undo):
            try:
                step()
            except sa.exc.DBAPIError as exc:  # the retry's idempotent steps finish what is left
                log.warning("could not undo a migration step: %s", str(exc.orig).strip().splitlines()[0])
        self._undo.clear()


@contextmanager
def steps() -> Iterator[Steps]:
    """`with online.steps() as steps:` -- the steps of one migration; on PostgreSQL outside its
    transaction (alembic's autocommit block), undone if one of them fails."""
    done = Steps()
    if not done.postgres:
        yield done
        return
    with op.get_context().autocommit_block():
        try:
            yield done
        except BaseException:
            done.undo()
            raise
