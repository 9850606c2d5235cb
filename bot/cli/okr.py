"""`throughline okr`: import the OKR registry from a CSV or YAML file, export it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bot.cli.command import fail, friendly, settings_of
from bot.core.config import ConfigError


@click.group()
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


def _slack_users(client: Any, references: set[str]) -> tuple[dict[str, str | None], str | None]:
    """Each owner reference (user id, or email) -> the Slack user id, or None if Slack has no such
    (active) user. users.info for ids, users.lookupByEmail for emails. The second value says why
    the owners could not be checked (Slack unreachable), or is None when they were."""
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
            return found, f"SLACK_API_URL: cannot reach Slack ({_first_line(exc)})"
    return found, None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def okrs_posting_teams(session: Any) -> list[str]:
    """The workspaces the database knows."""
    import sqlalchemy as sa

    from storage.models import Workspace

    return list(session.scalars(sa.select(Workspace.team_id).order_by(Workspace.id)))


def _client_of(runtime: Any, team_id: str) -> Any:
    """The client with `team_id`'s own token (the one authorize function); fails in one line if
    that workspace has no installation."""
    from bot.core.installs import NotInstalled

    try:
        return runtime.services.client_for(team_id)
    except NotInstalled as exc:
        fail(f"--team {team_id}: Throughline is {exc.reason} there; install it first (docs/distributing.md)")


def _team_of(client: Any, known: list[str]) -> tuple[str, str | None]:
    """The bot token's workspace, and None. When Slack cannot be reached: the database's only
    workspace (on a fresh database, none: the file is still checked against itself) and why."""
    try:
        return _bot_team(client), None
    except ConfigError as exc:
        if len(known) > 1 or not _unreachable(client):
            raise
        return (known[0] if known else ""), str(exc).split("; or name")[0]


def _unreachable(client: Any) -> bool:
    from slack_sdk.errors import SlackApiError, SlackClientError

    try:
        client.api_test()
    except SlackApiError:
        return False
    except (SlackClientError, OSError):
        return True
    return False


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
    from bot.okrs import models as okrs_models
    from bot.okrs.service import files as okr_files
    from bot.okrs.service import plan as okrs_plan
    from bot.okrs.service import reading as okrs_reading
    from bot.okrs.service import rows as okrs_rows

    settings = settings_of(ctx)
    try:
        rows = okr_files.read(file)
    except okr_files.FileFormatError as exc:
        for error in exc.errors:
            click.echo(error, err=True)
        fail(f"{file.name}: nothing was imported", code=1)
    if settings.oauth_enabled:  # many workspaces: the one named, with its own installation's token
        if team is None:
            fail("--team is needed: with OAuth install Throughline serves several workspaces")
    else:
        settings.require(
            "slack_bot_token", why="owners are checked against Slack (users.info, users.lookupByEmail)"
        )
    runtime = Runtime(settings)
    try:
        runtime.prepare_database()
        now = SystemClock().now()
        with runtime.db.session() as session:
            team_id, no_slack = (
                (team, None) if team else _team_of(runtime.client, okrs_posting_teams(session))
            )
            client = _client_of(runtime, team_id)
            workspace = settings_for(session, team_id, settings.workspace_defaults())
            today = okrs_reading.today_in(workspace, now)
            patterns = workspace.okr_url_patterns
            references = okrs_rows.owners_to_resolve(rows)
            # everything local first (priorities, periods, keys, parents), as if every owner exists:
            # a wrong row must not hide behind Slack being unreachable
            local = okrs_plan.plan(
                session, team_id, rows, {ref: ref for ref in references}, today, url_patterns=patterns
            )
            owners, unchecked = _slack_users(client, references) if no_slack is None else ({}, no_slack)
            if unchecked is not None:
                planned = local
            else:
                planned = okrs_plan.plan(session, team_id, rows, owners, today, url_patterns=patterns)
                if planned.ok and not dry_run:
                    okrs_plan.apply(session, planned, now)
    finally:
        runtime.stop()
    if unchecked is not None:
        for row_error in local.errors:
            click.echo(str(row_error), err=True)
        shown = f"owners not checked ({', '.join(sorted(references))})" if references else "not checked"
        fail(
            f"{file.name}: {len(local.errors)} error(s) in the file; {shown}: {unchecked}; "
            "nothing was imported",
            code=1,
        )
    if not planned.ok:
        for row_error in planned.errors:
            click.echo(str(row_error), err=True)
        fail(f"{file.name}: {len(planned.errors)} error(s); nothing was imported", code=1)
    signs = {okrs_models.ChangeKind.CREATE: "+", okrs_models.ChangeKind.UPDATE: "~"}
    for change in planned.changes:
        if change.kind in signs:
            detail = f" ({', '.join(change.changed)})" if change.changed else ""
            click.echo(f"  {signs[change.kind]} {change.key}{detail}")
    created, updated, same = (planned.count(k) for k in okrs_models.ChangeKind)
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
    from bot.okrs.service import reading as okrs_reading
    from storage.db import Database

    settings = settings_of(ctx)
    if team is None and settings.oauth_enabled:
        fail("--team is needed: with OAuth install Throughline serves several workspaces")
    if team is None:
        settings.require("slack_bot_token", why="without --team, the workspace is the bot token's")
        team = _bot_team(make_client(settings))
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            rows = okrs_reading.export_rows(session, team)
    finally:
        database.dispose()
    text = okr_files.write_csv(rows) if fmt == "csv" else okr_files.write_yaml(rows)
    click.echo(text, nl=False)
