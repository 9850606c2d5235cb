"""The baseline for the latency bench: a bolt app that only acknowledges `/initiative` and the
intake modal's submit, served exactly as `throughline serve` serves Throughline (waitress, same
threads) and configured as Throughline is (`process_before_response=True`).

Run as `python -m bench.bare PORT SLACK_API_URL [--bolt-defaults]`. With `--bolt-defaults` it keeps
bolt's default `process_before_response=False`, under which bolt runs the listener on a thread
pool and polls for its ack every 10 ms: a floor of about 10 ms on every answer. That is shown for
context only; the target is measured against the app configured like ours."""

from __future__ import annotations

import sys

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bench.harness import SIGNING_SECRET
from bot.app.server import EVENTS_PATH, make_server
from bot.intake.models import IntakeCallback
from tests.slackfake import BOT_TOKEN


def bare_app(api_url: str, *, bolt_defaults: bool = False) -> SlackRequestHandler:
    """Bolt at its cheapest: acknowledge and do nothing else."""
    app = App(
        signing_secret=SIGNING_SECRET,
        client=WebClient(token=BOT_TOKEN, base_url=api_url),
        process_before_response=not bolt_defaults,
    )

    @app.command("/initiative")
    def just_ack_command(ack: Ack) -> None:
        ack()

    @app.view(IntakeCallback.SUBMIT.value)
    def just_ack_view(ack: Ack) -> None:
        ack()

    return SlackRequestHandler(app, path=EVENTS_PATH)


if __name__ == "__main__":
    port, api_url = int(sys.argv[1]), sys.argv[2]
    handler = bare_app(api_url, bolt_defaults="--bolt-defaults" in sys.argv[3:])
    make_server(handler, "127.0.0.1", port, threads=8).run()
