"""`throughline demo`: try Throughline in a browser, with a local Slack and a demo company."""

from __future__ import annotations

import click

from bot.cli.command import friendly
from bot.cli.serve import wait_for_signal


@click.command("demo")
@click.option("--port", type=int, default=8000, show_default=True, help="Port of the page.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address of the page.")
@friendly
def demo(port: int, host: str) -> None:
    """Start the real Throughline, a local Slack and a demo company; open the URL it prints.
    Needs no Slack workspace and no tokens; its database is a temporary file. Ctrl-C stops it."""
    from bot.playground.demo import DemoRun

    run = DemoRun(host=host, port=port)
    try:
        url = run.start()
    except BaseException as exc:  # Ctrl-C while it starts, too: nothing is left behind
        run.stop()
        if not isinstance(exc, OSError):
            raise
        raise click.ClickException(
            f"could not start the demo on {host}:{port}: {exc.strerror or exc}"
        ) from None
    click.echo(f"Throughline demo: open {url}  (Ctrl-C stops it)")
    done = wait_for_signal(run.stop)
    done.wait()
    click.echo("demo stopped")
