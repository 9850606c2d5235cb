"""`throughline outbox`: messages waiting to be sent, and re-queueing parked ones."""

from __future__ import annotations

import click

from bot.cli.command import fail, friendly, settings_of


@click.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Include sent messages (latest 50).")
@click.pass_context
@friendly
def outbox(ctx: click.Context, show_all: bool) -> None:
    """Messages waiting to be sent, and parked ones that need a person."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.outbox import admin
    from storage.db import Database

    database = Database(settings_of(ctx).database_url)
    try:
        with database.session() as session:
            rows = admin.waiting(session, include_sent=show_all)
            totals = admin.counts(session)
    finally:
        database.dispose()
    if not rows:
        click.echo("nothing waiting: every message was sent")
        return
    if totals:
        shown = ", ".join(f"{n} {state}" for state, n in sorted(totals.items()))
        click.echo(f"{shown} (parked first; a parked row shows why in [brackets])")
    click.echo(f"{'ID':>6}  {'STATE':8} {'TRIES':>5}  {'NEXT TRY (UTC)':16}  {'TO':12} KEY / ERROR")
    for row in rows:
        next_try = row.next_attempt_at.strftime("%Y-%m-%d %H:%M") if row.state.value == "pending" else ""
        error = f"  [{row.last_error}]" if row.last_error else ""
        click.echo(
            f"{row.id:>6}  {row.state.value:8} {row.attempts:>5}  {next_try:16}  {row.channel or '':12} "
            f"{row.key}{error}"
        )


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int, required=False)
@click.option("--all-parked", is_flag=True, help="Re-queue every parked message.")
@click.pass_context
@friendly
def outbox_retry(ctx: click.Context, ids: tuple[int, ...], all_parked: bool) -> None:
    """Re-queue parked (or pending) messages to be sent on the next delivery pass."""
    from bot.core.clock import SystemClock
    from bot.outbox import admin
    from storage.db import Database

    if not ids and not all_parked:
        raise click.UsageError("name message IDs (see `throughline outbox`) or pass --all-parked")
    database = Database(settings_of(ctx).database_url)
    try:
        with database.session() as session:
            count = admin.requeue(session, list(ids), SystemClock().now(), all_parked=all_parked)
    finally:
        database.dispose()
    if ids and count < len(ids):
        fail(f"re-queued {count} of {len(ids)}: the others do not exist or were already sent", code=1)
    click.echo(
        f"re-queued {count} message(s); a running Throughline sends them within a minute "
        "(or run `throughline tick`)"
    )
