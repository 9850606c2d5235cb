"""`throughline simulate`'s speed: the default quarter (50 people, 200 initiatives, 12 weeks) against
the 2-minute budget, and how the time grows with the company (three times the people and
initiatives, as a ratio to the default run measured in the same bench run). SQLite only: the
simulation always runs on a temporary SQLite database."""

from __future__ import annotations

import time

from bench.harness import Table
from bot.simulate.world import Options, World

BUDGET = 120.0  # seconds, for the default quarter on this 2-core machine


def _timed(options: Options) -> tuple[float, int, int]:
    started = time.perf_counter()
    observed = World(options).run()
    return time.perf_counter() - started, observed.ticks, observed.steps


def run(table: Table, kind: str, *, quick: bool = False) -> None:
    if kind != "sqlite":
        return
    weeks, people = (4, 20) if quick else (12, 50)
    base, ticks, steps = _timed(Options(weeks=weeks, people=people, initiatives=4 * people))
    table.add(
        "simulate",
        kind,
        f"{people} people, {4 * people} initiatives, {weeks} weeks",
        f"{base:.1f} s ({ticks} ticks, {steps} steps)",
        f"≤ {BUDGET:.0f} s",
        base <= BUDGET,
    )
    big, ticks, steps = _timed(Options(weeks=weeks, people=3 * people, initiatives=12 * people))
    table.add(
        "simulate",
        kind,
        f"{3 * people} people, {12 * people} initiatives, {weeks} weeks",
        f"{big:.1f} s = {big / base:.2f}× ({ticks} ticks, {steps} steps)",
        "≤ 4.5× (3× work)",
        big / base <= 4.5,
    )
