"""Seed the demo company (`bot.playground.company`) as rows the real bot would have written.

Weeks of history before `now`: requests submitted and triaged, owners asked on their cadence in
their own zones and answering (or not), dependencies added and met, and one dependency whose
provider has been blocked for just under the stall threshold, so the ladder starts about a day
after `now`. No outbox rows and no Slack messages: the real bot posts everything from here on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core.calendar import zone
from bot.core.config import Settings, WorkspaceSettings
from bot.playground.company import (
    CAST,
    CHANNELS,
    DEPENDENCIES,
    KENJI,
    KEY_RESULTS,
    LENA,
    NORA,
    OBJECTIVES,
    OKR_TOOL,
    STALL,
    STORIES,
    TEAMS,
    TRIAGE_STORY,
    Channel,
    Member,
    Story,
)
from bot.playground.timeline import Timeline
from storage.db import Database
from storage.models import (
    Dependency,
    DependencyState,
    Health,
    Initiative,
    InitiativeState,
    Okr,
    OkrKind,
    Person,
    Workspace,
)

__all__ = ["CAST", "CHANNELS", "Demo", "Seeded", "seed", "settings", "stall_window"]

DEMO_BOT_TOKEN = "xoxb-demo-bot-token"  # noqa: S105 (the local Slack's, not a secret)
DEMO_SIGNING_SECRET = "demo-signing-secret-0a1b2c3d4e5f"  # noqa: S105 (likewise)
COMPANY = "Fernhill"
# the stall is crossed this long before `now + 1 day`, so "+1 day" lands just past it
STALL_MARGIN = timedelta(hours=1)


@dataclass(frozen=True)
class Seeded:
    key: str
    title: str
    state: InitiativeState
    health: Health | None
    owner_id: str | None


@dataclass(frozen=True)
class Demo:
    """What was seeded, for the simulator and the tests."""

    team_id: str
    cast: tuple[Member, ...]
    channels: dict[str, Channel]
    triage_key: str  # the request waiting for triage
    stall_waiter_key: str
    stall_provider_key: str
    stall_at: datetime  # the first tick after this instant opens the escalation (level 1)
    initiatives: tuple[Seeded, ...]


def settings(
    database_url: str,
    slack_api_url: str,
    *,
    bot_token: str = DEMO_BOT_TOKEN,
    signing_secret: str = DEMO_SIGNING_SECRET,
    **overrides: Any,
) -> Settings:
    """The demo's settings: Fernhill's channels, people and teams, in Berlin, talking to the local
    Slack at `slack_api_url`. `overrides` are any other Settings fields."""
    values: dict[str, Any] = {
        "slack_bot_token": bot_token,
        "slack_signing_secret": signing_secret,
        "slack_api_url": slack_api_url,
        "database_url": database_url,
        "triage_channel": CHANNELS["triage"].id,
        "governance_channel": CHANNELS["governance"].id,
        "digest_channel": CHANNELS["digest"].id,
        "timezone": "Europe/Berlin",
        "holidays": "DE-BE",
        "default_cadence": "weekly:mon@09:00",
        "digest_schedule": "weekly:fri@16:00",
        "triage_leads": [LENA],
        "admins": [NORA],
        "governance_members": [KENJI],
        "teams": dict(TEAMS),
        "okr_url_patterns": [f"{OKR_TOOL}/*"],
    }
    values.update(overrides)
    return _DemoSettings(**values)


class _DemoSettings(Settings):
    """Settings read from the arguments only: an operator's THROUGHLINE_* variables or
    throughline.toml (their production settings) never leak into the demo."""

    @classmethod
    def settings_customise_sources(cls, settings_cls: Any, init_settings: Any, *_: Any, **__: Any) -> Any:
        return (init_settings,)


def stall_window(workspace: WorkspaceSettings, now: datetime) -> tuple[datetime, datetime]:
    """(since, stall_at): a provider blocked since `since` stalls what waits on it at `stall_at`,
    `stall_blocked_days` business days later (the workspace's calendar and zone, same time of day),
    just under a day after `now`; when that day is closed, on the next working day."""
    tz, calendar = zone(workspace.timezone), workspace.calendar()
    target = (now + timedelta(days=1) - STALL_MARGIN).astimezone(tz)
    day, at = calendar.next_working_day(target.date()), target.time().replace(tzinfo=None)
    counted = 0
    while counted < workspace.stall_blocked_days:
        day -= timedelta(days=1)
        counted += calendar.is_working_day(day)
    since = datetime.combine(day, at, tzinfo=tz).astimezone(UTC)
    return since, calendar.add_working_days(since, workspace.stall_blocked_days, tz)


def quarter(now: datetime, tz: ZoneInfo) -> str:
    local = now.astimezone(tz)
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def seed(db: Database, settings: WorkspaceSettings, team_id: str, now: datetime) -> Demo:
    """Write the demo company into `team_id`, in one transaction. Raises ValueError if the
    workspace already has OKRs or requests."""
    with db.session() as session:
        return _Seeder(session, settings, team_id, now).run()


class _Seeder:
    def __init__(self, session: Session, workspace: WorkspaceSettings, team_id: str, now: datetime) -> None:
        self.s, self.ws, self.team, self.now = session, workspace, team_id, now
        self.tz, self.calendar = zone(workspace.timezone), workspace.calendar()
        self.today = now.astimezone(self.tz).date()
        self.okrs: dict[str, Okr] = {}
        self.items: dict[int, Initiative] = {}
        self.since, self.stall_at = stall_window(workspace, now)
        self.timeline = Timeline(session, workspace, team_id, now, self.since)

    def run(self) -> Demo:
        self._workspace()
        self._people()
        self._okrs()
        for story in STORIES:
            self._story(story)
        self._dependencies()
        self.timeline.flush_events()
        waiter, provider = (self.items[n] for n in STALL)
        return Demo(
            team_id=self.team,
            cast=CAST,
            channels=dict(CHANNELS),
            triage_key=self.items[TRIAGE_STORY].key,
            stall_waiter_key=waiter.key,
            stall_provider_key=provider.key,
            stall_at=self.stall_at,
            initiatives=tuple(
                Seeded(i.key, i.title, i.state, i.health, i.owner_id) for i in self.items.values()
            ),
        )

    # -- the company -------------------------------------------------------------------------------

    def _workspace(self) -> None:
        row = self.s.scalar(sa.select(Workspace).where(Workspace.team_id == self.team))
        taken = self.s.scalar(
            sa.select(sa.func.count()).select_from(Okr).where(Okr.team_id == self.team)
        ) or self.s.scalar(
            sa.select(sa.func.count()).select_from(Initiative).where(Initiative.team_id == self.team)
        )
        if taken:
            raise ValueError(f"workspace {self.team} already has OKRs or requests; seed an empty one")
        if row is None:
            row = Workspace(team_id=self.team, settings={})
            self.s.add(row)
        row.name = COMPANY
        row.next_request_number = max(s.number for s in STORIES) + 1
        # first seen now: the digests of weeks before the demo are not posted at its first tick
        row.created_at = self.now

    def _people(self) -> None:
        for m in CAST:
            self.s.add(
                Person(
                    team_id=self.team,
                    user_id=m.user_id,
                    name=m.name,
                    email=f"{m.name}@fernhill.example",
                    tz=m.tz,
                    profile_fetched_at=self.now,
                    created_at=self.now - timedelta(weeks=10),
                )
            )

    def _okrs(self) -> None:
        period, at = quarter(self.now, self.tz), self.now - timedelta(weeks=10)
        for o in OBJECTIVES:
            self.okrs[o.key] = self._okr(o.key, o.title, o.owner, None, period, o.priority, at)
        for kr in KEY_RESULTS:
            parent = self.okrs[kr.key.split("-")[0]]
            row = self._okr(kr.key, kr.title, kr.owner, parent, period, parent.priority, at)
            row.metric_unit, row.metric_start = kr.unit, kr.start
            # a KR an initiative reports on starts at its start; its check-ins move it
            carried = any(s.okr == kr.key and s.metric for s in STORIES)
            current = kr.start if carried else self.timeline.metric_at(kr.key, self.now)
            row.metric_target, row.metric_current = kr.target, current
            self.okrs[kr.key] = row
        self.s.flush()

    def _okr(
        self, key: str, title: str, owner: str, parent: Okr | None, period: str, priority: int, at: datetime
    ) -> Okr:
        path = f"/o/{key[1]}" if parent is None else f"/o/{key[1]}/kr/{key.rsplit('KR', 1)[1]}"
        row = Okr(
            team_id=self.team,
            key=key,
            kind=OkrKind.OBJECTIVE if parent is None else OkrKind.KEY_RESULT,
            parent_id=parent.id if parent is not None else None,
            title=title,
            owner_id=owner,
            period=period,
            url=OKR_TOOL + path,
            priority=priority,
            created_at=at,
            updated_at=at,
        )
        self.s.add(row)
        self.s.flush()
        return row

    # -- one request's story ----------------------------------------------------------------------

    def _story(self, story: Story) -> None:
        okr = self.okrs[story.okr]
        item = Initiative(
            team_id=self.team,
            number=story.number,
            key=f"{self.ws.key_prefix}-{story.number}",
            title=story.title,
            description=story.description,
            requester_id=story.requester,
            okr_id=okr.id,
            impact_level=story.impact_level,
            impact=story.impact,
            team_asked=story.team,
            state=InitiativeState.PROPOSED,
            due_date=self._day(story.due_in),
            needed_by=self._day(story.needed_in),
        )
        self.items[story.number] = item
        if story.script:
            self.timeline.checked_in(story, item, okr)
        else:
            submitted = self.now - timedelta(days=story.age_days)
            self.timeline.submit(item, okr, submitted)
            if story.state is InitiativeState.DECLINED:
                decided = submitted + timedelta(days=1)
                item.state, item.decline_reason = InitiativeState.DECLINED, story.reason
                item.decided_by, item.decided_at, item.updated_at = LENA, decided, decided
                self.timeline.event(item, "request.declined", decided, LENA, reason=story.reason)

    def _day(self, days: int | None) -> date | None:
        return None if days is None else self.today + timedelta(days=days)

    def _dependencies(self) -> None:
        for waiter_number, provider_ref, what, needed_in in DEPENDENCIES:
            waiter = self.items[waiter_number]
            provider = self.items[provider_ref] if isinstance(provider_ref, int) else None
            assert waiter.decided_at is not None and waiter.owner_id is not None
            starts = [waiter.decided_at] + ([provider.decided_at] if provider and provider.decided_at else [])
            at = max(starts) + timedelta(days=1)
            dependency = Dependency(
                team_id=self.team,
                waiter_id=waiter.id,
                provider_id=provider.id if provider else None,
                provider_team=None if provider else str(provider_ref),
                provider_contact_id=None if provider else TEAMS[str(provider_ref)],
                what=what,
                needed_by=self.today + timedelta(days=needed_in),
                state=DependencyState.OPEN,
                created_by=waiter.owner_id,
                created_at=at,
            )
            self.s.add(dependency)
            self.s.flush()
            name = provider.key if provider else str(provider_ref)
            sides = [waiter] + ([provider] if provider else [])
            for side in sides:
                self.timeline.event(
                    side,
                    "dependency.added",
                    at,
                    waiter.owner_id,
                    subject=f"dependency:{dependency.id}",
                    waiter=waiter.key,
                    provider=name,
                    what=what,
                    needed_by=dependency.needed_by,
                )
            if provider is not None and provider.state is InitiativeState.DONE:
                assert provider.done_at is not None
                dependency.state, dependency.met_at = DependencyState.MET, provider.done_at
                for side in sides:
                    self.timeline.event(
                        side,
                        "dependency.met",
                        provider.done_at,
                        provider.owner_id,
                        subject=f"dependency:{dependency.id}",
                    )
