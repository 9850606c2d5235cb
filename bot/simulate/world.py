"""The run: the real app, tick, outbox and deliverer over a temporary SQLite database, talking to
the local Slack, on a simulated clock that jumps from one instant something can happen to the next
(a person acting, or a minute at which a real tick would find work: `due`).

After every step the deliverer is drained, and what arrived in the local Slack is what the
simulated people react to and what the report counts.
"""

from __future__ import annotations

import heapq
import itertools
import json
import random
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.app.runtime import Runtime
from bot.core.calendar import zone
from bot.core.clock import FixedClock
from bot.core.config import Settings, WorkspaceSettings
from bot.localslack.records import Message
from bot.localslack.server import LocalSlack
from bot.outbox.enqueue import POST
from bot.simulate import company as made
from bot.simulate.behaviour import ACKNOWLEDGE_CHANCE, RESOLVE_CHANCE, Behaviour
from bot.simulate.door import Door, DoorError, buttons
from bot.simulate.due import DueTimes
from bot.simulate.observe import Observed, kind_of
from storage.models import Checkin, CheckinStatus, Health, Initiative, InitiativeState, Outbox, OutboxState

# A Monday: the quarter crosses Easter, May Day, Ascension and Whit Monday in Berlin
START = datetime(2026, 3, 30, 4, 0, tzinfo=UTC)
BOT_TOKEN = "xoxb-simulated-bot-token"  # noqa: S105 (the local Slack's, not a secret)
SIGNING_SECRET = "simulated-signing-secret-7f3a"  # noqa: S105 (likewise)
CHOICE = {
    Health.ON_TRACK: "checkin_on_track",
    Health.AT_RISK: "checkin_at_risk",
    Health.BLOCKED: "checkin_blocked",
}
DEFAULTS: dict[str, Any] = {"timezone": "Europe/Berlin", "holidays": "DE-BE"}


@dataclass(frozen=True)
class Options:
    weeks: int = 12
    people: int = 50
    initiatives: int = 200
    seed: int = 1
    settings: dict[str, Any] = field(default_factory=dict)  # workspace settings (a --config file)


class _SimSettings(Settings):
    """Settings from the arguments only: no THROUGHLINE_* variable or throughline.toml leaks in."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: Any, init_settings: Any, *_: Any, **__: Any) -> Any:
        return (init_settings,)


def make_settings(
    database_url: str, slack_url: str, company: made.Company, chosen: dict[str, Any]
) -> Settings:
    values: dict[str, Any] = {
        **DEFAULTS,
        **chosen,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_url,
        "database_url": database_url,
        "triage_channel": made.TRIAGE,
        "governance_channel": made.GOVERNANCE,
        # no leadership digest: one channel post a week, no DM, and drawing its chart is most of a
        # simulated week's work
        "digest_channel": None,
        "triage_leads": [company.triage_lead],
        "admins": [company.admin],
        "governance_members": list(company.governance),
        "teams": dict(company.teams),
        "okr_url_patterns": ["https://okrs.simulated.example/*"],
        "slack_post_rate": 1000.0,  # real-time pacing means nothing on a simulated clock
        "slack_post_burst": 1000,
        "log_level": "ERROR",
    }
    return _SimSettings(**values)


class World:
    def __init__(self, options: Options) -> None:
        self.options = options
        self.rng = random.Random(options.seed)
        self.company = made.make(self.rng, options.people, options.initiatives)
        self.behaviour = Behaviour.draw(self.rng, self.company, options.weeks)
        self.start, self.end = START, START + timedelta(weeks=options.weeks)
        self.clock = FixedClock(self.start)
        self.events: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = itertools.count()
        self.workdir = Path(tempfile.mkdtemp(prefix="throughline-simulate-"))
        self.slack = LocalSlack(bot_token=BOT_TOKEN, team_id=made.TEAM_ID).start()
        self.slack.clock = lambda: self.clock.now().timestamp()
        for member in self.company.members:
            self.slack.add_user(member.user_id, member.name, tz=member.tz)
        for channel, name in (
            (made.TRIAGE, "triage"),
            (made.GOVERNANCE, "governance"),
            (made.DIGEST, "digest"),
        ):
            self.slack.add_channel(channel, name)
        self.settings = make_settings(
            f"sqlite:///{self.workdir / 'simulate.db'}", self.slack.url, self.company, options.settings
        )
        self.workspace: WorkspaceSettings = self.settings.workspace_defaults()
        self.runtime = Runtime(self.settings, clock=self.clock)
        self.observed = Observed(self.start, self.company, self.workspace)
        self._seen: dict[str, int] = {}
        self.ticks = 0
        self.reschedule = False  # an action may have made work due before the next tick planned
        self.steps = 0

    # -- the run ---------------------------------------------------------------------------------

    def run(self) -> Observed:
        try:
            self.runtime.prepare_database(migrate_now=True)
            with self.runtime.db.session() as session:
                made.seed(session, self.company, self.start, _quarter(self.start))
                self.prepare(session)
            self.door = Door(self.runtime.app, self.slack, SIGNING_SECRET)
            self._plan()
            due = DueTimes(self.workspace)
            next_tick = self.start
            while True:
                at = min(next_tick, self.events[0][0]) if self.events else next_tick
                if at >= self.end:
                    break
                self.clock.set(at)
                self.steps += 1
                while self.events and self.events[0][0] <= at:
                    _, _, act = heapq.heappop(self.events)
                    self.reschedule = False
                    act()
                    self._settle()
                    if self.reschedule:  # a new dependency or a resolved escalation: due sooner
                        with self.runtime.db.read() as session:
                            next_tick = min(next_tick, due.next_after(session, at, after_action=True))
                if at == next_tick:
                    self.runtime.tick(at)  # it drains the outbox itself
                    self.ticks += 1
                    self._settle(drain=False)
                    with self.runtime.db.read() as session:
                        next_tick = due.next_after(session, at)
            self.clock.set(self.end)
            with self.runtime.db.read() as session:
                self.observed.finish(session, self.end)
            self.observed.ticks, self.observed.steps = self.ticks, self.steps
            return self.observed
        finally:
            self.runtime.stop()
            self.slack.stop()
            shutil.rmtree(self.workdir, ignore_errors=True)

    def prepare(self, session: Session) -> None:
        """Rows a scenario adds after the company's, before the first tick; none by default."""

    def at(self, when: datetime, act: Callable[[], None]) -> None:
        heapq.heappush(self.events, (when, next(self._seq), act))

    def _plan(self) -> None:
        """The weeks' events known in advance: drift on Mondays, out-of-office announcements."""
        for week in range(self.options.weeks):
            monday = self.start + timedelta(weeks=week)
            self.at(monday, partial(self._drift, week))
        for member in self.company.members:
            traits = self.behaviour.traits[member.user_id]
            if traits.away_week is None or not traits.announces_away:
                continue
            tz = zone(member.tz)
            monday = (self.start + timedelta(weeks=traits.away_week)).astimezone(tz)
            friday = (monday - timedelta(days=3)).replace(hour=15, minute=0)
            back = (monday + timedelta(days=4)).date()
            when = max(friday.astimezone(UTC), self.start)
            self.at(when, partial(self._command, member.user_id, f"ooo {back.isoformat()}"))

    def _drift(self, week: int) -> None:
        if week:
            self.behaviour.drift()
        self.behaviour.finish_some(week)

    # -- what arrives ----------------------------------------------------------------------------

    def _settle(self, *, drain: bool = True) -> None:
        """Deliver what a person's action enqueued and look at what arrived. Only a new post needs
        delivering at once (it is counted, and people react to it); edits of messages already sent
        (a check-in answered) notify nobody and go out with the next delivery, in order."""
        if drain and self._posts_waiting():
            self.runtime.deliverer.drain()  # until a round claims nothing new
        now = self.clock.now()
        fresh: list[Message] = []
        for channel in sorted(self.slack.messages):
            messages = self.slack.messages[channel]
            seen = self._seen.get(channel, 0)
            if len(messages) > seen:
                fresh += [m for m in messages[seen:] if m.user is None]
                self._seen[channel] = len(messages)
        fresh.sort(key=lambda m: m.ts.split(".")[1])
        for message in fresh:
            key = ((message.metadata or {}).get("event_payload") or {}).get("key", "")
            self.observed.arrived(message.channel, key, now)
            self._react(message, key, now)
        if self.observed.has_new_levels:
            with self.runtime.db.read() as session:
                self.observed.read_levels(session)

    def _posts_waiting(self) -> bool:
        with self.runtime.db.read() as session:
            return (
                session.scalar(
                    sa.select(Outbox.id)
                    .where(Outbox.state == OutboxState.PENDING, Outbox.method == POST)
                    .limit(1)
                )
                is not None
            )

    def _react(self, message: Message, key: str, now: datetime) -> None:
        kind = kind_of(key)
        if message.channel.startswith("D") and kind == "nudge":
            owner = "U" + message.channel[1:]
            week = self.behaviour.week_of(self.start, now)
            if self.behaviour.answers(owner, week):
                self._answer_later(owner, message, now)
        elif message.channel.startswith("D") and kind == "reminder":
            owner = "U" + message.channel[1:]
            week = self.behaviour.week_of(self.start, now)
            prompt = self._latest_prompt(message.channel)
            if prompt is not None and self.behaviour.answers(owner, week, reminded=True):
                self._answer_later(owner, prompt, now)
        elif message.channel == made.GOVERNANCE and key.endswith(":level3:governance"):
            member = self.rng.choice(self.company.governance)
            if self.rng.random() < ACKNOWLEDGE_CHANCE:
                when = now + timedelta(hours=self.rng.uniform(1, 6))
                self.at(when, lambda: self._press(member, message, "escalation_acknowledge"))
            if self.rng.random() < RESOLVE_CHANCE:
                when = now + timedelta(hours=self.rng.uniform(20, 72))
                self.at(when, lambda: self._resolve(member, message))

    def _latest_prompt(self, channel: str) -> Message | None:
        for message in reversed(self.slack.messages.get(channel, [])):
            key = ((message.metadata or {}).get("event_payload") or {}).get("key", "")
            if kind_of(key) == "nudge":
                return message
        return None

    def _answer_later(self, owner: str, message: Message, now: datetime) -> None:
        tz = zone(next(m.tz for m in self.company.members if m.user_id == owner))
        when = self.behaviour.answer_at(owner, now, tz)
        self.at(max(when, now), lambda: self._answer(owner, message))

    # -- what people do ----------------------------------------------------------------------------

    def _answer(self, owner: str, message: Message) -> None:
        """The owner answers every check-in still waiting in the DM, with the real health; now and
        then through the Update modal, naming another team's initiative they now wait on."""
        with self.runtime.db.read() as session:
            pending = {
                c.id: key
                for c, key in session.execute(
                    sa.select(Checkin, Initiative.key)
                    .join(Initiative, Initiative.id == Checkin.initiative_id)
                    .where(Checkin.owner_id == owner, Checkin.status == CheckinStatus.PENDING)
                )
            }
            open_keys = list(
                session.scalars(
                    sa.select(Initiative.key)
                    .where(Initiative.state == InitiativeState.ACTIVE)
                    .order_by(Initiative.id)
                )
            )
        for action in buttons(message):
            if not str(action.get("action_id", "")).startswith("checkin_on_track"):
                continue
            checkin_id = json.loads(action["value"]).get("checkin")
            key = pending.get(checkin_id)
            if key is None:
                continue
            done = key in self.behaviour.done
            health = self.behaviour.health[key]
            provider = None if done else self.behaviour.provider_for(key, open_keys)
            if provider is not None:
                self._update_waiting(owner, message, checkin_id, key, health, provider)
                continue
            click = dict(action, action_id="checkin_done" if done else CHOICE[health])
            self._safely(partial(self.door.click, owner, message, click))

    def _update_waiting(
        self, owner: str, message: Message, checkin_id: int, key: str, health: Health, provider: str
    ) -> None:
        update = next(
            (
                a
                for a in buttons(message)
                if a.get("action_id") == "checkin_update"
                and json.loads(a.get("value") or "{}").get("initiative") == key
            ),
            None,
        )
        if update is None:
            return
        self.reschedule = True
        self._safely(lambda: self.door.click(owner, message, update))
        needed_by = (self.clock.now() + timedelta(days=self.rng.randint(5, 35))).date()
        form = {
            "state::checkin_health::value": health.value,
            "state::checkin_waiting_on::value": provider,
            "label::checkin_waiting_on::value": provider,
            "state::checkin_needed_by::value": needed_by.isoformat(),
            "state::checkin_blockers::value": f"waits on {provider}",
        }
        self._safely(lambda: self.door.submit_top_modal(owner, _form_for(self.door, owner, form)))

    def _press(self, user: str, message: Message, action_id: str) -> None:
        current = self._current(message)
        found = next((a for a in buttons(current) if a.get("action_id") == action_id), None)
        if found is not None:
            self._safely(lambda: self.door.click(user, current, found))

    def _resolve(self, user: str, message: Message) -> None:
        self.reschedule = True
        self._press(user, message, "escalation_resolve")
        self._safely(
            lambda: self.door.submit_top_modal(user, {"state::resolve_how::value": "Sorted it out."})
        )

    def _command(self, user: str, text: str) -> None:
        self.reschedule = True
        self._safely(lambda: self.door.command(user, "/checkin", text))

    def _current(self, message: Message) -> Message:
        for found in self.slack.messages.get(message.channel, []):
            if found.ts == message.ts:
                return found
        return message

    def _safely(self, act: Callable[[], Any]) -> None:
        try:
            act()
        except DoorError:
            self.observed.refused += 1


def _form_for(door: Door, user: str, form: dict[str, str]) -> dict[str, str]:
    """The form keyed by the open modal's real action ids (the playground's field names)."""
    stack = door.slack.modals.get(user) or []
    view = door.slack.views.get(stack[-1]) if stack else None
    if view is None:
        return form
    named: dict[str, str] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        block_id, action_id = block.get("block_id", ""), (block.get("element") or {}).get("action_id", "")
        for field_name, value in form.items():
            prefix, _, rest = field_name.partition("::")
            if rest.split("::")[0] == block_id:
                named[f"{prefix}::{block_id}::{action_id}"] = value
    return named


def _quarter(at: datetime) -> str:
    return f"{at.year}-Q{(at.month - 1) // 3 + 1}"
