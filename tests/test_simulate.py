"""`throughline simulate`: the same seed gives the same report; a stall reaches each level of the
ladder at exactly its configured business days (holidays counted out); with the defaults, the
noise stays within 2 bot DMs per person per week outside escalations; bad input is one line."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy.orm import Session

from bot.cli import cli
from bot.simulate import company as made
from bot.simulate.report import figures
from bot.simulate.world import Options, World
from storage.models import Dependency, DependencyState, Health, Initiative

BERLIN = ZoneInfo("Europe/Berlin")


def run(world: World) -> dict[str, Any]:
    observed = world.run()
    options = world.options
    shown = {"weeks": options.weeks, "people": options.people, "initiatives": options.initiatives}
    return figures(observed, options.weeks, {**shown, "seed": options.seed, "config": "defaults"})


def test_the_same_seed_gives_the_same_report() -> None:
    first = run(World(Options(weeks=3, people=8, initiatives=24, seed=7)))
    second = run(World(Options(weeks=3, people=8, initiatives=24, seed=7)))
    assert first == second
    assert first["checkins"].get("answered", 0) > 10  # people did answer: the run did something
    # and the seed is what decides: another one makes another company and other people
    seeded = [made.make(random.Random(seed), 8, 24) for seed in (7, 7, 8)]
    assert seeded[0] == seeded[1] != seeded[2]


# Tuesday 31 March 2026, 10:00 in Berlin: REQ-2 turns blocked, REQ-1 waits on it
CAUSE = datetime(2026, 3, 31, 10, 0, tzinfo=BERLIN)


class _BlockedProvider(World):
    """REQ-1 waits on REQ-2, blocked since CAUSE and staying blocked; nobody resolves by hand."""

    def prepare(self, session: Session) -> None:
        by_key = {i.key: i for i in session.scalars(_initiatives())}
        provider = by_key["REQ-2"]
        provider.health, provider.health_since, provider.troubled_since = Health.BLOCKED, CAUSE, CAUSE
        session.add(
            Dependency(
                team_id=provider.team_id,
                waiter_id=by_key["REQ-1"].id,
                provider_id=provider.id,
                what="the API",
                state=DependencyState.OPEN,
                created_by=by_key["REQ-1"].owner_id or "U000001",
                created_at=datetime(2026, 3, 30, 8, 0, tzinfo=UTC),
            )
        )
        self.behaviour.health["REQ-2"] = Health.BLOCKED

    def _drift(self, week: int) -> None:
        self.behaviour.health["REQ-2"] = Health.BLOCKED

    def _resolve(self, user: str, message: Any) -> None:
        return None


def _initiatives() -> Any:
    import sqlalchemy as sa

    return sa.select(Initiative).order_by(Initiative.id)


def test_a_stall_reaches_each_level_at_exactly_its_business_days() -> None:
    world = _BlockedProvider(Options(weeks=3, people=6, initiatives=8, seed=3))
    data = run(world)
    (stall,) = [s for s in data["stalls"] if s["waiter"] == "REQ-1" and s["provider"] == "REQ-2"]
    assert stall["cause"] == "blocked" and stall["cause_at"] == "2026-03-31T08:00Z"
    levels = stall["levels"]
    # 3 business days after Tue 31 Mar 10:00: Wed 1, Thu 2, (Good Friday, the weekend, Easter
    # Monday closed) Tue 7 Apr; the first tick after 10:00 that day is 10:01
    assert levels["1"]["reached"] == levels["1"]["expected"] == "2026-04-07T08:01Z"
    # level 2: 2 business days after level 1 (Wed 8, Thu 9); level 3: 5 (8, 9, 10, 13, 14 Apr)
    assert levels["2"]["reached"] == levels["2"]["expected"] == "2026-04-09T08:01Z"
    assert levels["3"]["reached"] == levels["3"]["expected"] == "2026-04-14T08:01Z"
    assert [levels[n]["late_minutes"] for n in "123"] == [0.0, 0.0, 0.0]


def test_the_noise_stays_within_two_dms_a_week_with_the_defaults() -> None:
    # a smaller company with the default run's shape: four initiatives a person, five zones
    data = run(World(Options(weeks=4, people=16, initiatives=64, seed=1)))
    outside = data["dms_per_person_week"]["outside_escalations"]
    assert 0.5 < outside["mean"] <= 2.0, outside
    # and every stall reached every level within the minute a real tick would have seen it
    assert all(late < 1.0 for late in data["ladder_late_minutes_max"].values()), data[
        "ladder_late_minutes_max"
    ]


@pytest.mark.parametrize(
    ("args", "config", "message"),
    [
        (["--weeks", "-1"], None, "--weeks: -1 is out of range; use 1 to 52"),
        (["--people", "0"], None, "--people: 0 is out of range"),
        ([], "cadence = 'weekly'", "unknown setting 'cadence'; did you mean 'default_cadence'?"),
        ([], "escalate_level2_days = [", "not valid TOML"),
        ([], "escalate_level2_days = 5\nescalate_level3_days = 4", "must be more than escalate_level2_days"),
        ([], "reminder_after_hours = 0", "THROUGHLINE_REMINDER_AFTER_HOURS"),
    ],
)
def test_bad_input_is_one_line(tmp_path: Path, args: list[str], config: str | None, message: str) -> None:
    if config is not None:
        path = tmp_path / "sim.toml"
        path.write_text(config)
        args = [*args, "--config", str(path)]
    result = CliRunner().invoke(cli, ["simulate", *args])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("throughline: error: ") and message in lines[0], lines


def test_a_config_file_that_is_not_there_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["simulate", "--config", str(tmp_path / "nope.toml")])
    assert result.exit_code == 2 and result.output.strip().endswith("no such file")
