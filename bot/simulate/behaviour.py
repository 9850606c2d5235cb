"""How the simulated people behave, drawn once per person from the seeded generator: how likely
each answers a check-in and how fast, a week out of office (announced or not), weeks of
forgetting; how initiatives drift between on track, at risk and blocked, and finish.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.simulate.company import Company
from storage.models import Health

# weekly moves of an initiative's real health: from -> [(to, probability)], the rest stays
DRIFT: dict[Health, tuple[tuple[Health, float], ...]] = {
    Health.ON_TRACK: ((Health.AT_RISK, 0.08), (Health.BLOCKED, 0.03)),
    Health.AT_RISK: ((Health.ON_TRACK, 0.40), (Health.BLOCKED, 0.12)),
    Health.BLOCKED: ((Health.AT_RISK, 0.30), (Health.ON_TRACK, 0.30)),
}
DONE_PER_WEEK = 0.02  # from the fourth week on
DEPENDENCY_CHANCE = 0.04  # an answer names another team's initiative it now waits on
ANSWER_AFTER_REMINDER = 0.6
ACKNOWLEDGE_CHANCE, RESOLVE_CHANCE = 0.6, 0.25
WORKDAY_START, WORKDAY_HOURS = 9, 9


@dataclass
class Traits:
    answer_rate: float  # chance of answering a check-in at all
    delay_hours: float  # median hours from the DM to the answer, within the working day
    away_week: int | None  # a week out of office
    announces_away: bool  # says so with `/checkin ooo` the Friday before
    forgets: range  # weeks in which the person mostly forgets to answer


@dataclass
class Behaviour:
    rng: random.Random
    company: Company
    weeks: int
    traits: dict[str, Traits] = field(default_factory=dict)
    health: dict[str, Health] = field(default_factory=dict)  # the real health, by initiative key
    done: set[str] = field(default_factory=set)

    @classmethod
    def draw(cls, rng: random.Random, company: Company, weeks: int) -> Behaviour:
        behaviour = cls(rng, company, weeks)
        for member in company.members:
            away = rng.randrange(1, weeks) if weeks > 1 and rng.random() < 0.3 else None
            forgets = range(0)
            if weeks > 2 and rng.random() < 0.1:
                first = rng.randrange(0, weeks - 1)
                forgets = range(first, min(weeks, first + rng.randint(2, 3)))
            behaviour.traits[member.user_id] = Traits(
                answer_rate=min(0.99, max(0.3, rng.betavariate(8, 1.5))),
                delay_hours=math.exp(rng.gauss(math.log(3), 0.9)),
                away_week=away,
                announces_away=rng.random() < 0.7,
                forgets=forgets,
            )
        for key in company.keys:
            behaviour.health[key] = Health.ON_TRACK
        return behaviour

    def week_of(self, start: datetime, at: datetime) -> int:
        return int((at - start) / timedelta(weeks=1))

    def away(self, user_id: str, week: int) -> bool:
        return self.traits[user_id].away_week == week

    def answers(self, user_id: str, week: int, *, reminded: bool = False) -> bool:
        """Whether the person answers the check-in they were just asked (or reminded of)."""
        traits = self.traits[user_id]
        if self.away(user_id, week):
            return False
        rate = ANSWER_AFTER_REMINDER if reminded else traits.answer_rate
        if week in traits.forgets:
            rate *= 0.1
        return self.rng.random() < rate

    def answer_at(self, user_id: str, asked: datetime, tz: ZoneInfo) -> datetime:
        """When the person gets to it: a delay around their median, moved into their working day."""
        delay = timedelta(
            hours=min(48.0, self.rng.lognormvariate(math.log(self.traits[user_id].delay_hours), 0.7))
        )
        local = (asked + delay).astimezone(tz)
        if local.weekday() >= 5 or not WORKDAY_START <= local.hour < WORKDAY_START + WORKDAY_HOURS:
            day = local.date() if local.hour < WORKDAY_START else local.date() + timedelta(days=1)
            while day.weekday() >= 5:
                day += timedelta(days=1)
            morning = datetime.combine(day, time(WORKDAY_START), tz)
            local = morning + timedelta(minutes=self.rng.randrange(0, 120))
        return local.replace(second=self.rng.randrange(60))

    def drift(self) -> None:
        """A week passes: each open initiative's real health may move; some finish."""
        for key in self.company.keys:
            if key in self.done:
                continue
            now = self.health[key]
            roll, acc = self.rng.random(), 0.0
            for to, chance in DRIFT[now]:
                acc += chance
                if roll < acc:
                    self.health[key] = to
                    break

    def finish_some(self, week: int) -> None:
        if week < 3:
            return
        for key in self.company.keys:
            if (
                key not in self.done
                and self.health[key] is Health.ON_TRACK
                and self.rng.random() < DONE_PER_WEEK
            ):
                self.done.add(key)

    def provider_for(self, waiter: str, open_keys: list[str]) -> str | None:
        """Another team's open initiative the waiter comes to depend on, sometimes."""
        if self.rng.random() >= DEPENDENCY_CHANCE:
            return None
        team = self.company.team_of[waiter]
        others = [k for k in open_keys if self.company.team_of[k] != team and k not in self.done]
        return self.rng.choice(others) if others else None
