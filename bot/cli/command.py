"""What every `throughline` command shares: the settings the group loaded, and one clear line
(with an exit code) instead of a traceback for problems the user can fix."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from bot.core.clock import Clock, FixedClock, SystemClock, parse_instant
from bot.core.config import ConfigError, Settings

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = 2) -> None:
    click.echo(f"throughline: error: {message}", err=True)
    sys.exit(code)


def friendly(func: F) -> F:
    """Stop with one clear line instead of a traceback for problems the user can fix."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from slack_bolt.error import BoltError

        from storage.migrate import MigrationBlocked

        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            fail(str(exc))
        except MigrationBlocked as exc:  # not a configuration problem: retrying is the remedy
            fail(str(exc), code=1)
        except BoltError as exc:
            fail(f"Slack refused to start the app: {exc}. Check SLACK_BOT_TOKEN and SLACK_API_URL.")
        except (OperationalError, ProgrammingError) as exc:
            fail(database_problem(exc))

    return wrapper  # type: ignore[return-value]


def database_problem(exc: OperationalError | ProgrammingError) -> str:
    """One line for a database error a command met: no schema yet, or no database to reach."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    # SQLite: "no such table: outbox"; PostgreSQL: 'relation "outbox" does not exist'
    if "no such table" in first or ("relation" in first and "does not exist" in first):
        return (
            f"DATABASE_URL: the database has no Throughline schema yet ({first}); "
            "`throughline db upgrade` creates it"
        )
    return f"DATABASE_URL: cannot reach the database ({first})"


def settings_of(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj["settings"]
    return settings


def clock_at(now_text: str | None) -> Clock:
    """The clock of a `--now` option: fixed at that instant, or the system's when it is not given.
    An instant that does not parse is a usage error on `--now`."""
    try:
        now = parse_instant(now_text) if now_text else None
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--now") from None
    return FixedClock(now) if now else SystemClock()
