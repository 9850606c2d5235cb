"""`throughline digest`: post the leadership digest of the latest period, or preview it."""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from bot.cli.command import clock_at, fail, friendly, settings_of
from bot.core.config import ConfigError, Settings


@click.command("digest")
@click.option("--preview", is_flag=True, help="Print the digest of the period so far here; post nothing.")
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Act at this instant (ISO-8601 with zone), e.g. 2026-03-06T15:00Z.",
)
@click.option("--team", "team_id", default=None, help="Only this workspace (its team id, e.g. T0123ABC).")
@click.pass_context
@friendly
def digest_command(ctx: click.Context, preview: bool, now_text: str | None, team_id: str | None) -> None:
    """Post the leadership digest of the latest period (once per period), or --preview it."""
    settings = settings_of(ctx)
    clock = clock_at(now_text)
    if preview:
        _preview_digest(settings, clock.now(), team_id)
    else:
        _post_digest(settings, clock, team_id)


def _digest_teams(session: Any, team_id: str | None) -> list[str]:
    from bot.digest.service import posting as digest_posting

    teams = [team_id] if team_id else digest_posting.workspaces(session)
    if not teams:
        fail(
            "no workspace yet: Throughline records a workspace the first time it hears from Slack "
            "there (a slash command, a button, the App Home); start it (`throughline run` or "
            "`throughline serve`), use it once in Slack, then try again (or name one with --team T0123ABC)",
            code=1,
        )
    return teams


def _preview_digest(settings: Settings, now: datetime, team_id: str | None) -> None:
    from sqlalchemy.exc import OperationalError, ProgrammingError

    from bot.core.workspaces import settings_for
    from bot.digest.service import build as digest_build
    from bot.digest.views import message as digest_views
    from storage.db import Database

    database = Database(settings.database_url)
    try:
        with database.session() as session:
            teams = _digest_teams(session, team_id)
            previews = []
            for team in teams:
                workspace = settings_for(session, team, settings.workspace_defaults())
                previews.append((team, digest_build.preview(session, team, workspace, now)))
    except (OperationalError, ProgrammingError) as exc:
        raise ConfigError(
            f"DATABASE_URL: cannot read the digest's data ({str(exc.orig).strip().splitlines()[0]}); "
            "is the schema there? `throughline db upgrade` creates it"
        ) from None
    finally:
        database.dispose()
    for team, data in previews:
        rendered = digest_views.render(data, settings.template_dir)
        if len(previews) > 1:
            click.echo(f"## {team}\n")
        click.echo(digest_views.as_text(rendered.blocks, terminal=True))
    click.echo("throughline: a preview; nothing was posted.", err=True)


def _post_digest(settings: Settings, clock: Any, team_id: str | None) -> None:
    from bot.app.runtime import Runtime
    from bot.core.workspaces import settings_for
    from bot.digest import flows as digest_flows
    from bot.digest import models as digest_models
    from bot.digest.service import periods as digest_periods

    runtime = Runtime(settings, clock=clock)
    try:
        runtime.prepare_database()
        now = clock.now()
        with runtime.db.session() as session:
            teams = _digest_teams(session, team_id)
        results = [
            digest_flows.post_scheduled(
                runtime.db, runtime.services.defaults, team, now, template_dir=settings.template_dir
            )
            for team in teams
        ]
        with runtime.db.read() as session:
            for result in results:
                workspace = settings_for(session, result.team_id, runtime.services.defaults)
                next_at = digest_periods.next_digest_at(workspace, now)
                click.echo(_describe_post(result, next_at, workspace.timezone))
        delivery = None
        if any(r.outcome is digest_models.Outcome.POSTED for r in results):
            if settings.slack_bot_token is None:
                click.echo(
                    "throughline: SLACK_BOT_TOKEN is not set; the digest stays queued until it is.", err=True
                )
            else:
                delivery = runtime.deliverer.drain()
                click.echo(
                    f"delivery: sent={delivery.sent}, retrying={delivery.retrying}, "
                    f"parked={delivery.parked}, waiting={delivery.waiting}"
                )
    finally:
        runtime.stop()
    if any(r.outcome is digest_models.Outcome.NO_CHANNEL for r in results) or (delivery and delivery.parked):
        sys.exit(1)


def _describe_post(result: Any, next_at: datetime, zone_name: str) -> str:
    from bot.digest import models as digest_models

    period = result.period
    when = ""
    if period is not None:
        when = f" of the period to {_local(period.end, period.zone_name)} ({period.zone_name})"
    if result.outcome is digest_models.Outcome.POSTED:
        chart = " with its chart" if result.chart else " (without a chart: it could not be drawn)"
        return f"{result.team_id}: digest{when} queued for {result.channel}{chart}"
    if result.outcome is digest_models.Outcome.ALREADY:
        return f"{result.team_id}: the digest{when} was posted already; nothing to do"
    if result.outcome is digest_models.Outcome.NO_CHANNEL:
        return f"{result.team_id}: no digest channel is set (THROUGHLINE_DIGEST_CHANNEL); nothing posted"
    ended = (
        f": the period to {_local(period.end, period.zone_name)} ({period.zone_name}) ended before "
        "Throughline first heard from this workspace"
        if period is not None
        else ""
    )
    return (
        f"{result.team_id}: no digest is due yet{ended}; the next digest is posted "
        f"{_local(next_at, zone_name)} ({zone_name})"
    )


def _local(instant: datetime, zone_name: str) -> str:
    from bot.core.calendar import zone

    at = instant.astimezone(zone(zone_name))
    return f"{at:%a} {at.day} {at:%b %Y %H:%M}"
