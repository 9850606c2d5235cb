"""`throughline export`: initiatives, check-ins, dependencies, escalations, OKRs and the history,
one file per kind (docs/export-and-audit.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from bot.cli.command import friendly, settings_of


@click.command("export")
@click.option(
    "--team", default=None, help="Workspace (team) ID; default: every workspace (see the team_id column)."
)
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only rows created or changed on or after this day (UTC), YYYY-MM-DD.",
)
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("throughline-export"),
    show_default=True,
    help="Directory for the files (created; files of an earlier export there are replaced).",
)
@click.pass_context
@friendly
def export(ctx: click.Context, team: str | None, since: datetime | None, fmt: str, out_dir: Path) -> None:
    """Write everything the database holds, one file per kind: initiatives, checkins, checkin_answers,
    dependencies, escalations, escalation_steps, okrs and events. Rows are streamed, so memory stays
    flat however large the workspace; CSV cells a spreadsheet would run as formulas are neutralised."""
    from bot.audit.service import export as exporting
    from storage.db import Database

    database = Database(settings_of(ctx).database_url)
    start = since.replace(tzinfo=UTC) if since is not None else None
    try:
        with database.read() as session:
            written = exporting.to_directory(session, out_dir, fmt, team, start)
    finally:
        database.dispose()
    for name, count in written.items():
        click.echo(f"{out_dir / name}: {count} rows")
