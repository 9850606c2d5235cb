"""`throughline simulate`: how noisy the bot will be and how fast a stall reaches governance, with
the settings you chose, before anyone gets a DM."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from bot.cli.command import fail, friendly

LIMITS = {"weeks": (1, 52), "people": (4, 5000), "initiatives": (1, 20000)}


@click.command("simulate")
@click.option("--weeks", type=int, default=12, show_default=True, help="Weeks to simulate.")
@click.option("--people", type=int, default=50, show_default=True, help="People in the company.")
@click.option("--initiatives", type=int, default=200, show_default=True, help="Active initiatives.")
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same report.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="A throughline.toml-style file of the settings to simulate (cadence, reminders, ladder...).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--chart", type=click.Path(dir_okay=False), default=None, help="Write a PNG chart here.")
@friendly
def simulate(
    weeks: int,
    people: int,
    initiatives: int,
    seed: int,
    config_file: str | None,
    as_json: bool,
    chart: str | None,
) -> None:
    """Run a quarter of a made-up company through the real bot on a simulated clock (a temporary
    database and a local Slack: nothing is sent anywhere) and report the DMs per person per week
    and the escalation ladder's timing."""
    from bot.simulate import config
    from bot.simulate.chart import render
    from bot.simulate.report import figures, text
    from bot.simulate.world import Options, World

    for name, value in (("weeks", weeks), ("people", people), ("initiatives", initiatives)):
        low, high = LIMITS[name]
        if not low <= value <= high:
            fail(f"--{name}: {value} is out of range; use {low} to {high}")
    chosen = config.load(config_file) if config_file else {}
    options = Options(weeks=weeks, people=people, initiatives=initiatives, seed=seed, settings=chosen)
    started = time.monotonic()
    observed = World(options).run()
    shown: dict[str, object] = {"weeks": weeks, "people": people, "initiatives": initiatives, "seed": seed}
    shown["config"] = Path(config_file).name if config_file else "defaults"
    data = figures(observed, weeks, shown)
    seconds = time.monotonic() - started
    if chart:
        Path(chart).write_bytes(render(data))
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        click.echo(text(data))
        if chart:
            click.echo(f"chart: {chart}")
    # the one wall-clock figure, kept out of the report so that the same seed prints the same
    click.echo(f"simulated {weeks} weeks in {seconds:.1f} s", err=True)
