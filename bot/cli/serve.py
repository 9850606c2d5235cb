"""Running Throughline: `run` (Socket Mode), `serve` (HTTP) and one `tick` of the clock."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from bot.cli.command import clock_at, fail, friendly, settings_of


def wait_for_signal(stop: Callable[[], None]) -> threading.Event:
    done = threading.Event()

    def handle(signum: int, _frame: Any) -> None:
        logging.getLogger("throughline").info("signal %s: shutting down", signum)
        stop()
        done.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)
    return done


def say(line: str) -> None:
    click.echo(line, err=True)


def connect_with_backoff(connect: Callable[[], None], done: threading.Event) -> bool:
    """Open the Socket Mode connection, retrying with backoff (one line the first time) while Slack
    cannot be reached; False if the process was stopped first. A refusal (a bad token) stops."""
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.app.readiness import BACKOFF, unreachable
    from bot.core.config import ConfigError

    attempt = 0
    while not done.is_set():
        try:
            connect()
            return True
        except SlackApiError as exc:
            raise ConfigError(
                f"SLACK_APP_TOKEN: Slack answered apps.connections.open with {exc.response.get('error')}"
            ) from None
        except (SlackClientError, OSError) as exc:
            if attempt == 0:
                say(
                    f"throughline: cannot open the Socket Mode connection ({unreachable(exc)}); "
                    "retrying with backoff"
                )
            done.wait(BACKOFF[min(attempt, len(BACKOFF) - 1)])
            attempt += 1
    return False


@click.command()
@click.option("--no-scheduler", is_flag=True, help="Don't run the per-minute tick in this process.")
@click.pass_context
@friendly
def run(ctx: click.Context, no_scheduler: bool) -> None:
    """Run in Socket Mode (no public URL needed): the embedded default."""
    from bot.app.runtime import Runtime

    settings = settings_of(ctx)
    if settings.oauth_enabled:
        fail(
            "SLACK_CLIENT_ID is set: OAuth install for many workspaces runs in HTTP mode; "
            "use `throughline serve`"
        )
    settings.require("slack_bot_token", why="the bot needs its token to talk to Slack")
    settings.require("slack_app_token", why="Socket Mode needs an app-level token")
    runtime = Runtime(settings)
    runtime.prepare_database()
    handler = runtime.socket_mode_handler()
    runtime.start_background(scheduler=not no_scheduler)

    def stop() -> None:
        handler.close()
        runtime.stop()

    done = wait_for_signal(stop)
    runtime.wait_for_slack(say)
    if connect_with_backoff(handler.connect, done):
        click.echo("throughline: connected to Slack in Socket Mode; Ctrl-C stops.", err=True)
    done.wait()


@click.command()
@click.option("--host", default=None, help="Address to listen on (default: THROUGHLINE_HOST or 0.0.0.0).")
@click.option("--port", type=int, default=None, help="Port (default: THROUGHLINE_PORT or 3000).")
@click.option("--no-scheduler", is_flag=True, help="Don't run the per-minute tick in this process.")
@click.pass_context
@friendly
def serve(ctx: click.Context, host: str | None, port: int | None, no_scheduler: bool) -> None:
    """Serve Slack's HTTP requests at /slack/events (production; any number of replicas)."""
    from bot.app.runtime import Runtime
    from bot.app.server import ThroughlineWSGI, make_server

    settings = settings_of(ctx)
    if not settings.oauth_enabled:  # OAuth: each workspace's token comes from its install
        settings.require("slack_bot_token", why="the bot needs its token to talk to Slack")
    settings.require("slack_signing_secret", why="HTTP mode verifies every request's signature")
    runtime = Runtime(settings)
    runtime.prepare_database()
    server = make_server(
        ThroughlineWSGI(runtime.app, runtime.db, runtime.readiness),
        host or settings.host,
        port or settings.port,
        settings.server_threads,
    )
    runtime.start_background(scheduler=not no_scheduler)
    runtime.wait_for_slack(say)

    def stop() -> None:
        server.close()
        runtime.stop()

    wait_for_signal(stop)
    click.echo(
        f"throughline: serving on http://{server.effective_host}:{server.effective_port}/slack/events",
        err=True,
    )
    with contextlib.suppress(OSError, ValueError):  # the socket closed by stop()
        server.run()


@click.command()
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

    settings = settings_of(ctx)
    clock = clock_at(now_text)
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
