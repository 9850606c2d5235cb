"""`throughline audit verify`: check each workspace's history against its hash chain."""

from __future__ import annotations

import click

from bot.cli.command import fail, friendly, settings_of


@click.group()
def audit() -> None:
    """The tamper-evident history: check it."""


@audit.command("verify")
@click.option("--team", default=None, help="Workspace (team) ID; default: every workspace.")
@click.option(
    "--anchor",
    "anchor_text",
    default=None,
    metavar="COUNT:HASH",
    help="An anchor an earlier clean run printed (kept outside the database): "
    "the chain must still begin with it.",
)
@click.pass_context
@friendly
def audit_verify(ctx: click.Context, team: str | None, anchor_text: str | None) -> None:
    """Walk each workspace's chain of events and name the first event changed, deleted or inserted
    out of place (exit code 1). A clean chain prints its count and its anchor, COUNT:HASH: keep it
    somewhere the database's users cannot write, and pass it as --anchor next time."""
    from bot.audit.models import Anchor
    from bot.audit.service import verify
    from storage.db import Database

    anchor = None
    if anchor_text is not None:
        try:
            anchor = Anchor.parse(anchor_text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--anchor") from None
    database = Database(settings_of(ctx).database_url)
    broken = 0
    try:
        with database.read() as session:
            teams = verify.teams(session, team)
            if anchor is not None and len(teams) > 1:
                raise click.UsageError("--anchor is one workspace's: name it with --team")
            if not teams:
                click.echo("no events yet: nothing to verify")
            for team_id in teams:
                report = verify.verify(session, team_id, anchor)
                for problem in report.problems:
                    click.echo(f"{team_id}: {problem.text}")
                if report.more:
                    click.echo(f"{team_id}: ... and {report.more} more problem(s)")
                if report.ok:
                    click.echo(
                        f"{team_id}: {report.count} events, the chain is whole; anchor {report.anchor}"
                    )
                else:
                    broken += 1
    finally:
        database.dispose()
    if broken:
        fail(f"the history of {broken} workspace(s) does not match its chain (see above)", code=1)
