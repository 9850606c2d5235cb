"""Alembic environment: always run with a connection handed in by storage.migrate."""

from __future__ import annotations

from alembic import context

import storage.integrations  # noqa: F401  (its tables on Base.metadata)
from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `throughline db upgrade` (storage.migrate), not the alembic CLI")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # each revision commits on its own: a step that fails (a lock timeout) leaves the database at
    # the last revision applied, and steps outside a transaction (storage.online) can exist at all
    transaction_per_migration=True,
)
with context.begin_transaction():
    context.run_migrations()
