"""`throughline workspace`: the workspaces Throughline holds data of (installed or not, when an
uninstalled one is purged), and purging one now."""

from __future__ import annotations

from datetime import timedelta

import click

from bot.cli.command import fail, friendly, settings_of


@click.group(invoke_without_command=True)
@click.pass_context
@friendly
def workspace(ctx: click.Context) -> None:
    """Workspaces: `list` them, or `purge TEAM` one's data."""
    if ctx.invoked_subcommand is None:
        ctx.invoke(workspace_list)


@workspace.command("list")
@click.pass_context
@friendly
def workspace_list(ctx: click.Context) -> None:
    """Every workspace: installed or not, and when an uninstalled one's data will be deleted."""
    from bot.core import uninstall
    from storage.db import Database

    settings = settings_of(ctx)
    retention = timedelta(days=settings.uninstall_retention_days)
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            client_id = settings.slack_client_id if settings.oauth_enabled else None
            lines = uninstall.listing(session, retention, client_id=client_id)
    finally:
        database.dispose()
    if not lines:
        click.echo("no workspaces yet")
        return
    click.echo(f"{'TEAM':12} {'ENTERPRISE':12} {'STATE':14} {'PURGED AFTER (UTC)':18} NAME")
    for line in lines:
        state = "installed" if line.installed else "uninstalled" if line.uninstalled_at else "not installed"
        purge = line.purge_after.strftime("%Y-%m-%d %H:%M") if line.purge_after else ""
        click.echo(f"{line.team_id:12} {line.enterprise_id or '':12} {state:14} {purge:18} {line.name or ''}")


@workspace.command("purge")
@click.argument("team")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@friendly
def workspace_purge(ctx: click.Context, team: str, yes: bool) -> None:
    """Delete every row of workspace TEAM, in every table (its installation too), now."""
    from bot.core import uninstall
    from storage.db import Database

    if not yes:
        click.confirm(f"delete every row of workspace {team}? This cannot be undone", abort=True)
    database = Database(settings_of(ctx).database_url)
    try:
        deleted = uninstall.purge(database, team)
    finally:
        database.dispose()
    if not deleted:
        fail(f"workspace {team}: nothing to delete (no row names it)", code=1)
    shown = ", ".join(f"{n} {table}" for table, n in sorted(deleted.items()))
    click.echo(f"workspace {team} purged: {shown}")
