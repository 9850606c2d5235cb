"""The `throughline` command: the group (settings, logging) and its commands, one module per group
of them (serve, digest, db, outbox, okr, manifest, simulate)."""

from __future__ import annotations

import logging
import sys

import click

from bot.cli import audit, db, demo, digest, export, manifest, okr, outbox, serve, simulate, workspace
from bot.cli.command import friendly
from bot.core.config import load_settings


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    quiet = max(logging.WARNING, getattr(logging, level, logging.INFO))
    for name in ("slack_bolt", "alembic", "apscheduler", "waitress"):
        logging.getLogger(name).setLevel(quiet)
    # slack_sdk logs every refused connection at ERROR before raising; the caller says it once
    if level != "DEBUG":
        logging.getLogger("slack_sdk.web.base_client").setLevel(logging.CRITICAL)


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


cli.add_command(serve.run)
cli.add_command(serve.serve)
cli.add_command(serve.tick)
cli.add_command(digest.digest_command)
cli.add_command(db.db)
cli.add_command(outbox.outbox)
cli.add_command(okr.okr)
cli.add_command(demo.demo)
cli.add_command(manifest.manifest)
cli.add_command(audit.audit)
cli.add_command(export.export)
cli.add_command(simulate.simulate)
cli.add_command(workspace.workspace)


def main() -> None:
    """The `throughline` command. A usage error (a missing or unreadable argument, an unknown
    option) is one line naming the command's --help, not click's usage block."""
    try:
        code = cli.main(obj={}, prog_name="throughline", standalone_mode=False)
    except click.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "throughline"
        click.echo(f"throughline: error: {exc.format_message()} (see `{where} --help`)", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"throughline: error: {exc.format_message()}", err=True)
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("throughline: aborted", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
