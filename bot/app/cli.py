"""The `throughline` command."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click

from bot.core.clock import parse_instant
from bot.core.config import ConfigError, Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    click.echo(f"throughline: error: {message}", err=True)
    sys.exit(code)


def friendly(func: F) -> F:
    """Stop with one clear line instead of a traceback for problems the user can fix."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from slack_bolt.error import BoltError

        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(str(exc))
        except BoltError as exc:
            fail(f"Slack refused to start the app: {exc}. Check SLACK_BOT_TOKEN and SLACK_API_URL.")

    return wrapper  # type: ignore[return-value]


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet = max(logging.WARNING, getattr(logging, level, logging.INFO))
    for name in ("slack_bolt", "alembic", "apscheduler", "waitress"):
        logging.getLogger(name).setLevel(quiet)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="TOML settings file (default: $THROUGHLINE_CONFIG or ./throughline.toml).",
)
@click.version_option(package_name="throughline")
@click.pass_context
@friendly
def cli(ctx: click.Context, config_file: str | None) -> None:
    """Throughline: requests tied to OKRs, check-ins on a cadence, escalation of stalled work."""
    ctx.ensure_object(dict)
    ctx.obj["settings"] = load_settings(config_file)
    _setup_logging(ctx.obj["settings"].log_level)


def _wait_for_signal(stop: Callable[[], None]) -> threading.Event:
    done = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        logging.getLogger("throughline").info("signal %s: shutting down", signum)
        stop()
        done.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return done


@cli.command()
@click.option("--no-scheduler", is_flag=True, help="Don't run the per-minute tick in this process.")
@click.pass_context
@friendly
def run(ctx: click.Context, no_scheduler: bool) -> None:
    """Run in Socket Mode (no public URL needed): the embedded default."""
    from bot.app.runtime import Runtime

    settings = _settings(ctx)
    settings.require("slack_bot_token", why="the bot needs its token to talk to Slack")
    settings.require("slack_app_token", why="Socket Mode needs an app-level token")
    runtime = Runtime(settings)
    runtime.prepare_database()
    handler = runtime.socket_mode_handler()
    runtime.start_background(scheduler=not no_scheduler)

    def stop() -> None:
        handler.close()
        runtime.stop()

    done = _wait_for_signal(stop)
    handler.connect()
    click.echo("throughline: connected to Slack in Socket Mode; Ctrl-C stops.", err=True)
    done.wait()


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: THROUGHLINE_HOST or 0.0.0.0).")
@click.option("--port", type=int, default=None, help="Port (default: THROUGHLINE_PORT or 3000).")
@click.option("--no-scheduler", is_flag=True, help="Don't run the per-minute tick in this process.")
@click.pass_context
@friendly
def serve(ctx: click.Context, host: str | None, port: int | None, no_scheduler: bool) -> None:
    """Serve Slack's HTTP requests at /slack/events (production; any number of replicas)."""
    from bot.app.runtime import Runtime
    from bot.app.server import ThroughlineWSGI, make_server

    settings = _settings(ctx)
    settings.require("slack_bot_token", why="the bot needs its token to talk to Slack")
    settings.require("slack_signing_secret", why="HTTP mode verifies every request's signature")
    runtime = Runtime(settings)
    runtime.prepare_database()
    server = make_server(
        ThroughlineWSGI(runtime.app, runtime.db),
        host or settings.host,
        port or settings.port,
        settings.server_threads,
    )
    runtime.start_background(scheduler=not no_scheduler)

    def stop() -> None:
        server.close()
        runtime.stop()

    _wait_for_signal(stop)
    click.echo(
        f"throughline: serving on http://{server.effective_host}:{server.effective_port}/slack/events",
        err=True,
    )
    with contextlib.suppress(OSError, ValueError):  # the socket closed by stop()
        server.run()


@cli.command()
@click.option(
    "--now",
    "now_text",
    default=None,
    help="Run at this instant (ISO-8601 with zone), e.g. 2026-03-02T09:00Z.",
)
@click.pass_context
@friendly
def tick(ctx: click.Context, now_text: str | None) -> None:
    """Run one pass of the clock (check-ins, reminders, escalations, digest, delivery) and exit."""
    from bot.app.runtime import Runtime
    from bot.core.clock import FixedClock, SystemClock

    settings = _settings(ctx)
    try:
        now = parse_instant(now_text) if now_text else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None
    clock = FixedClock(now) if now else SystemClock()
    runtime = Runtime(settings, clock=clock)
    runtime.prepare_database()
    if settings.slack_bot_token is None:
        click.echo("throughline: SLACK_BOT_TOKEN is not set; messages stay queued until it is.", err=True)
    report = runtime.tick(clock.now())
    _print_tick(report.now, report.counts, report.failed, report.delivery)
    runtime.stop()
    if report.failed:
        sys.exit(1)


def _print_tick(
    now: datetime, counts: dict[str, dict[str, int]], failed: dict[str, str], delivery: Any
) -> None:
    click.echo(f"tick at {now.isoformat()}")
    for step, values in counts.items():
        shown = ", ".join(f"{k}={v}" for k, v in values.items()) or "nothing to do"
        click.echo(f"  {step}: {shown}")
    for step, error in failed.items():
        click.echo(f"  {step}: FAILED {error}")
    if delivery is not None:
        click.echo(
            f"  delivery: sent={delivery.sent}, retrying={delivery.retrying}, parked={delivery.parked}, "
            f"waiting={delivery.waiting}"
        )


@cli.command("digest")
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
    from bot.core.clock import FixedClock, SystemClock

    settings = _settings(ctx)
    try:
        now = parse_instant(now_text) if now_text else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None
    clock = FixedClock(now) if now else SystemClock()
    if preview:
        _preview_digest(settings, clock.now(), team_id)
    else:
        _post_digest(settings, clock, team_id)


def _digest_teams(session: Any, team_id: str | None) -> list[str]:
    from bot.digest.service import posting as digest_posting

    teams = [team_id] if team_id else digest_posting.workspaces(session)
    if not teams:
        fail(
            "no workspace yet: Throughline creates one when someone first uses it in Slack "
            "(or name one with --team)",
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
    from bot.digest import flows as digest_flows
    from bot.digest import models as digest_models

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
        for result in results:
            click.echo(_describe_post(result))
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


def _describe_post(result: Any) -> str:
    from bot.digest import models as digest_models

    period = result.period
    when = ""
    if period is not None:
        end = period.end.astimezone(period.tz)
        when = f" of the period to {end:%a} {end.day} {end:%b %Y %H:%M} ({period.zone_name})"
    if result.outcome is digest_models.Outcome.POSTED:
        chart = " with its chart" if result.chart else " (without a chart: it could not be drawn)"
        return f"{result.team_id}: digest{when} queued for {result.channel}{chart}"
    if result.outcome is digest_models.Outcome.ALREADY:
        return f"{result.team_id}: the digest{when} was posted already; nothing to do"
    if result.outcome is digest_models.Outcome.NO_CHANNEL:
        return f"{result.team_id}: no digest channel is set (THROUGHLINE_DIGEST_CHANNEL); nothing posted"
    return f"{result.team_id}: no digest is due yet{when}"


@cli.group()
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

    database = Database(_settings(ctx).database_url)
    try:
        before = migrate.current_revision(database.engine)
        migrate.upgrade(database.engine, revision)
        after = migrate.current_revision(database.engine)
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

    database = Database(_settings(ctx).database_url)
    try:
        click.echo(f"database: {migrate.current_revision(database.engine) or 'empty'}")
        click.echo(f"this version: {migrate.head_revision()}")
    finally:
        database.dispose()


@cli.group(invoke_without_command=True)
@click.option("--all", "show_all", is_flag=True, help="Include sent messages (latest 50).")
@click.pass_context
@friendly
def outbox(ctx: click.Context, show_all: bool) -> None:
    """Messages waiting to be sent, and parked ones that need a person."""
    if ctx.invoked_subcommand is not None:
        return
    from bot.outbox import delivery
    from storage.db import Database

    database = Database(_settings(ctx).database_url)
    try:
        with database.session() as session:
            rows = delivery.waiting(session, include_sent=show_all)
    finally:
        database.dispose()
    if not rows:
        click.echo("nothing waiting: every message was sent")
        return
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
    from bot.outbox import delivery
    from storage.db import Database

    if not ids and not all_parked:
        raise click.UsageError("name message IDs (see `throughline outbox`) or pass --all-parked")
    database = Database(_settings(ctx).database_url)
    try:
        with database.session() as session:
            count = delivery.requeue(session, list(ids), SystemClock().now(), all_parked=all_parked)
    finally:
        database.dispose()
    if ids and count < len(ids):
        fail(f"re-queued {count} of {len(ids)}: the others do not exist or were already sent", code=1)
    click.echo(
        f"re-queued {count} message(s); a running Throughline sends them within a minute "
        "(or run `throughline tick`)"
    )


@cli.group()
def okr() -> None:
    """The OKR registry: import it from a CSV or YAML file, export it."""


def _bot_team(client: Any) -> str:
    """The workspace of the bot token (auth.test)."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        return str(client.auth_test()["team_id"])
    except SlackApiError as exc:
        raise ConfigError(
            f"SLACK_BOT_TOKEN: Slack answered auth.test with {exc.response.get('error')}; "
            "check the token, or name the workspace with --team"
        ) from None
    except (SlackClientError, OSError) as exc:
        raise ConfigError(
            f"SLACK_API_URL: cannot reach Slack ({exc}); or name the workspace with --team"
        ) from None


def _slack_users(client: Any, references: set[str]) -> dict[str, str | None]:
    """Each owner reference (user id, or email) -> the Slack user id, or None if Slack has no such
    (active) user. users.info for ids, users.lookupByEmail for emails."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    found: dict[str, str | None] = {}
    for ref in sorted(references):
        method = "users.lookupByEmail" if "@" in ref else "users.info"
        try:
            user = (client.users_lookupByEmail(email=ref) if "@" in ref else client.users_info(user=ref))[
                "user"
            ]
            found[ref] = None if user.get("deleted") else str(user["id"])
        except SlackApiError as exc:
            error = exc.response.get("error")
            if error in ("users_not_found", "user_not_found"):
                found[ref] = None
            else:
                raise ConfigError(
                    f"Slack answered {method} with {error}; check SLACK_BOT_TOKEN's scopes "
                    "(users:read, users:read.email)"
                ) from None
        except (SlackClientError, OSError) as exc:
            raise ConfigError(f"SLACK_API_URL: cannot reach Slack ({exc})") from None
    return found


@okr.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check the file and show what would change; write nothing.")
@click.option("--team", default=None, help="Workspace (team) ID; default: the bot token's workspace.")
@click.pass_context
@friendly
def okr_import(ctx: click.Context, file: Path, dry_run: bool, team: str | None) -> None:
    """Create or update OKRs from FILE (.csv, .yaml or .yml), matched by key.

    Owners are Slack user IDs or emails (looked up with users.lookupByEmail). If any row is wrong,
    every error is listed with its line number and nothing is imported (exit code 1).
    """
    from bot.app.runtime import Runtime
    from bot.core.clock import SystemClock
    from bot.core.workspaces import settings_for
    from bot.okrs import models as okr_models
    from bot.okrs.service import files as okr_files
    from bot.okrs.service import plan as okr_plan
    from bot.okrs.service import reading as okr_reading
    from bot.okrs.service import rows as okr_rows

    settings = _settings(ctx)
    try:
        rows = okr_files.read(file)
    except okr_files.FileFormatError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        fail(f"{file.name}: nothing was imported", code=1)
    settings.require(
        "slack_bot_token", why="owners are checked against Slack (users.info, users.lookupByEmail)"
    )
    runtime = Runtime(settings)
    try:
        runtime.prepare_database()
        team_id = team or _bot_team(runtime.client)
        owners = _slack_users(runtime.client, okr_rows.owners_to_resolve(rows))
        now = SystemClock().now()
        with runtime.db.session() as session:
            today = okr_reading.today_in(settings_for(session, team_id, settings.workspace_defaults()), now)
            planned = okr_plan.plan(session, team_id, rows, owners, today)
            if planned.ok and not dry_run:
                okr_plan.apply(session, planned, now)
    finally:
        runtime.stop()
    if not planned.ok:
        for row_error in planned.errors:
            click.echo(str(row_error), err=True)
        fail(f"{file.name}: {len(planned.errors)} error(s); nothing was imported", code=1)
    signs = {okr_models.ChangeKind.CREATE: "+", okr_models.ChangeKind.UPDATE: "~"}
    for change in planned.changes:
        if change.kind in signs:
            detail = f" ({', '.join(change.changed)})" if change.changed else ""
            click.echo(f"  {signs[change.kind]} {change.key}{detail}")
    created, updated, same = (planned.count(k) for k in okr_models.ChangeKind)
    if dry_run:
        click.echo(
            f"{file.name}: would create {created}, update {updated}, leave {same} unchanged "
            "(dry run: nothing was written)"
        )
    else:
        click.echo(f"{file.name}: created {created}, updated {updated}, {same} unchanged")


@okr.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv", "yaml"]), default="csv", show_default=True)
@click.option("--team", default=None, help="Workspace (team) ID; default: the bot token's workspace.")
@click.pass_context
@friendly
def okr_export(ctx: click.Context, fmt: str, team: str | None) -> None:
    """Write every OKR (archived ones too) to standard output, in the form `okr import` reads."""
    from bot.core.services import make_client
    from bot.okrs.service import files as okr_files
    from bot.okrs.service import reading as okr_reading
    from storage.db import Database

    settings = _settings(ctx)
    if team is None:
        settings.require("slack_bot_token", why="without --team, the workspace is the bot token's")
        team = _bot_team(make_client(settings))
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            rows = okr_reading.export_rows(session, team)
    finally:
        database.dispose()
    text = okr_files.write_csv(rows) if fmt == "csv" else okr_files.write_yaml(rows)
    click.echo(text, nl=False)


def main() -> None:
    cli(obj={})
