"""A made-up company for the simulation: people in several time zones, teams with leads, one
objective per team with key results, and initiatives already accepted and active, written as the
rows the real bot would have written after triage. Everything is drawn from one seeded generator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from storage.models import Health, Initiative, InitiativeState, Okr, OkrKind, Person, Workspace

TEAM_ID = "T0SIM"
TRIAGE, GOVERNANCE, DIGEST = "C0SIMTRIAGE", "C0SIMGOVERN", "C0SIMDIGEST"
TEAM_NAMES = (
    "Platform",
    "Data",
    "Payments",
    "Growth",
    "Mobile",
    "Security",
    "Support",
    "Sales Ops",
    "Finance",
    "People",
)
# (zone, share of the company): offices in Berlin, London, New York, San Francisco and Bangalore
ZONES = (
    ("Europe/Berlin", 0.4),
    ("Europe/London", 0.2),
    ("America/New_York", 0.2),
    ("America/Los_Angeles", 0.1),
    ("Asia/Kolkata", 0.1),
)
TEAM_SIZE = 6


@dataclass(frozen=True)
class Member:
    user_id: str
    name: str
    tz: str
    team: str


@dataclass(frozen=True)
class Company:
    members: tuple[Member, ...]
    teams: dict[str, str]  # team name -> lead's user id
    triage_lead: str
    governance: tuple[str, ...]
    admin: str
    keys: tuple[str, ...]  # the initiatives' keys, REQ-1 ...
    owner_of: dict[str, str]  # initiative key -> owner
    requester_of: dict[str, str]
    team_of: dict[str, str]  # initiative key -> the owner's team


def make(rng: random.Random, people: int, initiatives: int) -> Company:
    """The company's people and initiatives. Owners are spread over everyone, a few people own
    more; requests come mostly from a few people (as in a real company, where some teams ask for
    much of the work)."""
    count = max(people, 4)
    names = [f"person{n:03d}" for n in range(1, count + 1)]
    zone_names = [z for z, _ in ZONES]
    zone_weights = [w for _, w in ZONES]
    team_count = max(1, -(-count // TEAM_SIZE))
    teams = [
        TEAM_NAMES[i % len(TEAM_NAMES)] + ("" if i < len(TEAM_NAMES) else f" {i // len(TEAM_NAMES) + 1}")
        for i in range(team_count)
    ]
    members = []
    for index, name in enumerate(names):
        team = teams[index % len(teams)]
        members.append(Member(f"U{index + 1:06d}", name, rng.choices(zone_names, zone_weights)[0], team))
    leads: dict[str, str] = {}
    for member in members:
        leads.setdefault(member.team, member.user_id)
    ids = [m.user_id for m in members]
    owner_weights = [rng.uniform(0.5, 2.0) for _ in ids]
    requester_weights = [1.0 / (rank + 1) ** 0.9 for rank in range(len(ids))]
    requesters = ids[:]
    rng.shuffle(requesters)
    keys, owner_of, requester_of, team_of = [], {}, {}, {}
    team_by_id = {m.user_id: m.team for m in members}
    for number in range(1, initiatives + 1):
        key = f"REQ-{number}"
        owner = rng.choices(ids, owner_weights)[0]
        requester = rng.choices(requesters, requester_weights)[0]
        while requester == owner:
            requester = rng.choices(requesters, requester_weights)[0]
        keys.append(key)
        owner_of[key], requester_of[key], team_of[key] = owner, requester, team_by_id[owner]
    return Company(
        members=tuple(members),
        teams=leads,
        triage_lead=ids[0],
        governance=(ids[1], ids[2]),
        admin=ids[3],
        keys=tuple(keys),
        owner_of=owner_of,
        requester_of=requester_of,
        team_of=team_of,
    )


def seed(session: Session, company: Company, start: datetime, period: str) -> None:
    """Write the company as rows: the workspace, its people (profiles fresh at `start`), one
    objective per team with two key results, and every initiative active and on track, accepted
    a few weeks before `start`, its first check-in left to the tick to schedule."""
    accepted = start - timedelta(days=21)
    session.add(
        Workspace(
            team_id=TEAM_ID,
            settings={},
            name="Simulated",
            next_request_number=len(company.keys) + 1,
            created_at=start,
        )
    )
    for m in company.members:
        session.add(
            Person(
                team_id=TEAM_ID,
                user_id=m.user_id,
                name=m.name,
                email=f"{m.name}@simulated.example",
                tz=m.tz,
                profile_fetched_at=start,
                created_at=accepted,
            )
        )
    krs: dict[str, list[Okr]] = {}
    for number, (team, lead) in enumerate(sorted(company.teams.items()), start=1):
        objective = _okr(session, f"O{number}", f"{team} delivers its quarter", lead, None, period, accepted)
        krs[team] = [
            _okr(session, f"O{number}-KR{k}", f"{team} key result {k}", lead, objective, period, accepted)
            for k in (1, 2)
        ]
    for number, key in enumerate(company.keys, start=1):
        team = company.team_of[key]
        session.add(
            Initiative(
                team_id=TEAM_ID,
                number=number,
                key=key,
                title=f"{team} initiative {number}",
                requester_id=company.requester_of[key],
                owner_id=company.owner_of[key],
                okr_id=krs[team][number % 2].id,
                team_asked=team,
                state=InitiativeState.ACTIVE,
                health=Health.ON_TRACK,
                health_since=accepted,
                decided_by=company.triage_lead,
                decided_at=accepted,
                last_checkin_at=start - timedelta(days=3),
                created_at=accepted - timedelta(days=2),
                updated_at=accepted,
            )
        )


def _okr(
    session: Session, key: str, title: str, owner: str, parent: Okr | None, period: str, at: datetime
) -> Okr:
    row = Okr(
        team_id=TEAM_ID,
        key=key,
        kind=OkrKind.OBJECTIVE if parent is None else OkrKind.KEY_RESULT,
        parent_id=parent.id if parent is not None else None,
        title=title,
        owner_id=owner,
        period=period,
        url=f"https://okrs.simulated.example/{key}",
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.flush()
    return row
