"""`throughline db`: the database schema."""

from __future__ import annotations

import click

from bot.cli.command import friendly, settings_of
from bot.core.config import ConfigError


@click.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_context
@friendly
def db_upgrade(ctx: click.Context, revision: str) -> None:
    """Apply the migrations shipped with this version."""
    from sqlalchemy.exc import OperationalError

    from storage import migrate
    from storage.db import Database

    settings = settings_of(ctx)
    database = Database(settings.database_url)
    try:
        before = migrate.current_revision(database.engine)
        migrate.upgrade(
            database.engine,
            revision,
            lock_timeout=settings.migration_lock_timeout,
            statement_timeout=settings.migration_statement_timeout,
        )
        after = migrate.current_revision(database.engine)
    except migrate.NotThroughline as exc:
        raise ConfigError(f"DATABASE_URL: {exc}") from None
    except OperationalError as exc:
        raise ConfigError(
            f"DATABASE_URL: cannot reach the database ({str(exc.orig).strip().splitlines()[0]})"
        ) from None
    finally:
        database.dispose()
    click.echo(
        f"database upgraded: {before or 'empty'} -> {after}"
        if before != after
        else f"database already at {after}"
    )


@db.command("current")
@click.pass_context
@friendly
def db_current(ctx: click.Context) -> None:
    """Show the schema revision of the database and of this version."""
    from storage import migrate
    from storage.db import Database

    database = Database(settings_of(ctx).database_url)
    try:
        click.echo(f"database: {migrate.current_revision(database.engine) or 'empty'}")
        click.echo(f"this version: {migrate.head_revision()}")
    finally:
        database.dispose()
