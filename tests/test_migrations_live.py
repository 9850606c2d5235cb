"""Upgrading a database in use: a lock held too long stops the upgrade in one line at a clean
revision instead of queueing every reader behind it; a step that fails is undone; the rewritten
migrations give the schema of the models from any earlier revision; and no migration builds an
index on an existing table inside a transaction."""

from __future__ import annotations

import ast
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import make_url

from storage import migrate, online
from storage.db import Database
from storage.models import Base
from tests import test_migrations
from tests.conftest import TEST_DATABASE_URL
from tests.test_cli import one_line, run_cli

VERSIONS = Path(migrate.MIGRATIONS) / "versions"
# the revisions before the ones rewritten for a live database, oldest first
EARLIER = ("faea57ffb2ea", "4efd0b76f7b1", "1d6096f91ad8", "86c25730b954")


def schema_differences(database: Database) -> list[object]:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def invalid_indexes(database: Database) -> list[str]:
    if database.engine.dialect.name != "postgresql":
        return []
    with database.engine.connect() as connection:
        return list(
            connection.scalars(
                sa.text(
                    "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                    "WHERE NOT i.indisvalid"
                )
            )
        )


@pytest.fixture
def scratch_pg() -> Iterator[tuple[str, Database]]:
    """A PostgreSQL database of its own (these tests leave it at earlier revisions)."""
    assert TEST_DATABASE_URL
    name = f"{make_url(TEST_DATABASE_URL).database}_live_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    try:
        yield url, database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.parametrize("start", EARLIER)
def test_upgrading_from_each_earlier_revision_gives_the_models_schema(db: Database, start: str) -> None:
    migrate.downgrade(db.engine, start)
    try:
        migrate.upgrade(db.engine)
    finally:
        migrate.upgrade(db.engine)  # the next test finds the database at head whatever happened
    assert schema_differences(db) == []
    assert invalid_indexes(db) == []


def test_backfills_resume_batch_after_batch(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of one row: every row is still filled once, in id order, and nothing is skipped."""
    monkeypatch.setattr(online, "BATCH", 1)
    test_migrations.test_upgrading_from_the_first_release_keeps_the_data_and_fills_troubled_since(db)
    migrate.downgrade(db.engine, "base")
    migrate.upgrade(db.engine)
    test_migrations.test_upgrading_fills_when_each_done_initiative_was_done(db)


@pytest.mark.postgres_only
def test_a_lock_held_on_initiative_stops_db_upgrade_in_one_line_at_a_clean_revision(scratch_pg) -> None:
    url, database = scratch_pg
    migrate.upgrade(database.engine, "4efd0b76f7b1")
    blocker = database.engine.connect()
    # what any long transaction that read the table holds: ALTER TABLE must wait for it, and every
    # reader that comes after the waiting ALTER waits too -- so the ALTER must not wait long
    blocker.execute(sa.text("LOCK TABLE initiative IN ACCESS SHARE MODE"))
    env = {"DATABASE_URL": url, "THROUGHLINE_MIGRATION_LOCK_TIMEOUT": "0.5"}
    try:
        result = run_cli("db", "upgrade", env=env, timeout=60)
        assert result.returncode == 1
        line = one_line(result)
        assert line == (
            "throughline: error: the upgrade stopped: table initiative is locked by another session "
            "(waited 0.5 s, THROUGHLINE_MIGRATION_LOCK_TIMEOUT); the database stays at revision "
            "4efd0b76f7b1: retry `throughline db upgrade` when the lock is gone"
        )
        # migrating on start (run, serve, tick) stops the same way instead of serving
        started = one_line(run_cli("tick", "--now", "2026-03-02T09:00Z", env=env, timeout=60))
        assert started == line
        assert migrate.current_revision(database.engine) == "4efd0b76f7b1"
        columns = {c["name"] for c in sa.inspect(database.engine).get_columns("initiative")}
        assert "done_at" not in columns
        assert "health_checkpoint" not in sa.inspect(database.engine).get_table_names()
    finally:
        blocker.rollback()
        blocker.close()
    result = run_cli("db", "upgrade", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert schema_differences(database) == []


@pytest.mark.postgres_only
def test_an_index_build_that_times_out_is_undone_with_the_rest_of_its_revision(scratch_pg) -> None:
    """A transaction older than the build (here one that only read another table) makes a
    concurrent index build wait; when it waits too long, the indexes and the column this revision
    already added go again, the index it replaces stays, and the retry finishes the revision."""
    _, database = scratch_pg
    migrate.upgrade(database.engine, "1d6096f91ad8")
    blocker = database.engine.connect().execution_options(isolation_level="REPEATABLE READ")
    blocker.execute(sa.text("SELECT count(*) FROM okr"))  # holds a snapshot, no lock on initiative
    try:
        with pytest.raises(migrate.MigrationBlocked) as caught:
            migrate.upgrade(database.engine, lock_timeout=0.5)
        assert str(caught.value).startswith("the upgrade stopped: table initiative is locked")
        assert "stays at revision 1d6096f91ad8" in str(caught.value)
        inspector = sa.inspect(database.engine)
        assert "digest_health" not in {c["name"] for c in inspector.get_columns("initiative")}
        assert {i["name"] for i in inspector.get_indexes("initiative")} >= {"ix_initiative_team_id_state"}
        assert not {i["name"] for i in inspector.get_indexes("initiative")} & {
            "ix_initiative_digest_health",
            "ix_initiative_team_id_state_created_at",
        }
        assert invalid_indexes(database) == []
        assert migrate.current_revision(database.engine) == "1d6096f91ad8"
    finally:
        blocker.rollback()
        blocker.close()
    migrate.upgrade(database.engine)
    assert schema_differences(database) == []
    assert invalid_indexes(database) == []


@pytest.mark.postgres_only
def test_the_app_reads_and_writes_initiatives_between_the_steps_of_an_upgrade(
    scratch_pg, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After each step of the upgrade (a column added, each index built), another session reads an
    initiative and updates it without waiting: no step keeps a lock on the table once it is done
    (the old migrations held the table's exclusive lock until the whole upgrade committed)."""
    _, database = scratch_pg
    migrate.upgrade(database.engine, "4efd0b76f7b1")
    with database.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO okr (team_id, key, kind, title, period, priority, created_at, updated_at) "
                "VALUES ('T0FAKE', 'O1', 'objective', 'Grow', '2026-Q1', 3, now(), now())"
            )
        )
        connection.execute(
            sa.text(
                "INSERT INTO initiative (team_id, number, key, title, description, requester_id, okr_id, "
                "impact_level, impact, state, consecutive_misses, created_at, updated_at) "
                "SELECT 'T0FAKE', 1, 'REQ-1', 'Work', '', 'U0DAN', id, 2, '', 'active', 0, now(), now() "
                "FROM okr"
            )
        )
    app = sa.create_engine(database.engine.url, connect_args={"options": "-c lock_timeout=2s"})
    answered: list[str] = []

    def the_app_meanwhile(step: str) -> None:
        with app.begin() as connection:
            title = connection.scalar(sa.text("SELECT title FROM initiative WHERE key = 'REQ-1'"))
            connection.execute(sa.text("UPDATE initiative SET updated_at = now() WHERE key = 'REQ-1'"))
        answered.append(f"{step}: {title}")

    original_add, original_index = online.Steps.add_column, online.Steps.create_index

    def add_column(self: online.Steps, table: str, column: sa.Column) -> None:  # type: ignore[type-arg]
        original_add(self, table, column)
        the_app_meanwhile(f"column {column.name}")

    def create_index(self: online.Steps, name: str, table: str, columns: list[str], **options) -> None:
        original_index(self, name, table, columns, **options)
        the_app_meanwhile(name)

    monkeypatch.setattr(online.Steps, "add_column", add_column)
    monkeypatch.setattr(online.Steps, "create_index", create_index)
    try:
        migrate.upgrade(database.engine)
    finally:
        app.dispose()
    assert answered == [
        "column done_at: Work",
        "column digest_health: Work",
        "ix_initiative_digest_health: Work",
        "ix_initiative_team_id_state_created_at: Work",
        "ix_initiative_team_id_state_okr_id_done_at: Work",
        "ix_initiative_team_id_state_okr_id_due_date: Work",
        "column seq: Work",
        "column prev_hash: Work",
        "column hash: Work",
        "uq_event_team_id_seq: Work",
        "column uninstalled_at: Work",
        "column enterprise_id: Work",
    ]
    assert schema_differences(database) == []


def _tables_created(tree: ast.AST) -> set[str]:
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "create_table"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def _batch_tables(function: ast.FunctionDef) -> dict[str, str]:
    """`with op.batch_alter_table("t") as name:` -> {name: t}"""
    found = {}
    for node in ast.walk(function):
        if isinstance(node, ast.With):
            for item in node.items:
                call = item.context_expr
                if (
                    isinstance(call, ast.Call)
                    and isinstance(call.func, ast.Attribute)
                    and call.func.attr == "batch_alter_table"
                    and isinstance(item.optional_vars, ast.Name)
                    and isinstance(call.args[0], ast.Constant)
                ):
                    found[item.optional_vars.id] = call.args[0].value
    return found


def unsafe_steps(source: str) -> list[str]:
    """What a migration's upgrade() does to an existing table that would block it on a live
    PostgreSQL database: an index built with alembic's create_index (inside the transaction,
    not CONCURRENTLY) or an UPDATE run as one statement instead of in batches."""
    tree = ast.parse(source)
    created = _tables_created(tree)
    problems = []
    for function in ast.walk(tree):
        if not (isinstance(function, ast.FunctionDef) and function.name == "upgrade"):
            continue
        batches = _batch_tables(function)
        for node in ast.walk(function):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value.id if isinstance(node.func.value, ast.Name) else ""
            if node.func.attr == "create_index" and owner in ("op", *batches):
                table = batches.get(owner) or (
                    node.args[1].value
                    if len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
                    else None
                )
                concurrently = any(
                    k.arg == "postgresql_concurrently" and getattr(k.value, "value", False)
                    for k in node.keywords
                )
                if table not in created and not concurrently:
                    problems.append(
                        f"line {node.lineno}: index on existing table {table}: use steps.create_index"
                    )
            if node.func.attr == "execute" and owner == "op" and node.args:
                text = node.args[0].value if isinstance(node.args[0], ast.Constant) else ""
                if isinstance(text, str) and text.lstrip().upper().startswith("UPDATE"):
                    problems.append(f"line {node.lineno}: one-statement UPDATE: use steps.backfill")
    return problems


def test_the_rule_finds_an_index_built_in_the_transaction() -> None:
    bad = (
        "def upgrade():\n"
        "    with op.batch_alter_table('initiative') as batch_op:\n"
        "        batch_op.create_index('ix_x', ['team_id'])\n"
        "    op.create_index('ix_y', 'outbox', ['team_id'])\n"
        "    op.execute('UPDATE initiative SET x = 1')\n"
    )
    assert len(unsafe_steps(bad)) == 3
    fresh = "def upgrade():\n    op.create_table('t')\n    op.create_index('ix_t', 't', ['a'])\n"
    assert unsafe_steps(fresh) == []


def test_no_migration_blocks_an_existing_table() -> None:
    problems = {
        path.name: found
        for path in sorted(VERSIONS.glob("*.py"))
        if (found := unsafe_steps(path.read_text()))
    }
    assert problems == {}
