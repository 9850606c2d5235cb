"""Fernhill, the demo company: its people, channels, OKRs and the story of its requests.

Plain data, read by `bot.playground.seed`. Times are relative to the moment the demo starts, so the
story reads the same whenever it is seeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.models import InitiativeState

OKR_TOOL = "https://okr.fernhill.example"


class Role(StrEnum):
    TRIAGE_LEAD = "triage lead"
    OWNER = "owner"
    EXEC = "OKR owner"
    GOVERNANCE = "governance"
    ADMIN = "admin"
    REQUESTER = "requester"


@dataclass(frozen=True)
class Member:
    """A person in the demo's Slack: `name` is the short display name, `title` says who they are."""

    user_id: str
    name: str
    title: str
    tz: str
    role: Role
    team: str | None = None  # the team they lead, if any


@dataclass(frozen=True)
class Channel:
    id: str
    name: str
    purpose: str


CAST: tuple[Member, ...] = (
    Member("U0LENA", "lena", "Head of Product Operations", "Europe/Berlin", Role.TRIAGE_LEAD),
    Member("U0MARCUS", "marcus", "Payments lead", "America/New_York", Role.OWNER, "Payments"),
    Member("U0AMELIA", "amelia", "Platform lead", "Europe/London", Role.OWNER, "Platform"),
    Member("U0PRIYA", "priya", "Data lead", "Asia/Kolkata", Role.OWNER, "Data"),
    Member("U0DIEGO", "diego", "Growth lead", "America/Los_Angeles", Role.OWNER, "Growth"),
    Member("U0SOFIA", "sofia", "COO", "Europe/Berlin", Role.EXEC),
    Member("U0KENJI", "kenji", "Chief of Staff", "Europe/Paris", Role.GOVERNANCE),
    Member("U0NORA", "nora", "IT admin", "Europe/Berlin", Role.ADMIN),
    Member("U0SAM", "sam", "Enterprise account executive", "America/Chicago", Role.REQUESTER),
)

CHANNELS: dict[str, Channel] = {
    "triage": Channel("C0TRIAGE", "triage", "New requests wait here for a decision"),
    "governance": Channel("C0GOVERN", "governance", "Escalations that need a decision"),
    "digest": Channel("C0LEADERS", "leadership", "The weekly leadership digest"),
    "general": Channel("C0GENERAL", "general", "Company-wide"),
}


def member(user_id: str) -> Member:
    return next(m for m in CAST if m.user_id == user_id)


LENA, MARCUS, AMELIA, PRIYA, DIEGO, SOFIA, KENJI, NORA, SAM = (m.user_id for m in CAST)
TEAMS = {m.team: m.user_id for m in CAST if m.team}


@dataclass(frozen=True)
class Objective:
    key: str
    title: str
    owner: str
    priority: int


@dataclass(frozen=True)
class KeyResult:
    key: str
    title: str
    owner: str
    unit: str
    start: float
    target: float
    # how far along the straight line from start to target over the quarter it is, whenever the
    # demo starts: 1.0 on pace, below behind, above ahead
    pace: float
    digits: int = 0  # decimals its values are reported with


OBJECTIVES = (
    Objective("O1", "Make paying us effortless", SOFIA, 5),
    Objective("O2", "Run a platform nobody has to think about", SOFIA, 4),
    Objective("O3", "Decide with data, not anecdotes", SOFIA, 3),
)
KEY_RESULTS = (
    KeyResult("O1-KR1", "Cut refund tickets from 420 to 150 a month", MARCUS, "tickets", 420, 150, 1.03),
    KeyResult("O1-KR2", "Raise checkout conversion from 2.1% to 3.0%", DIEGO, "%", 2.1, 3.0, 0.7, 2),
    KeyResult("O2-KR1", "99.95% API availability", AMELIA, "%", 99.5, 99.95, 1.15, 2),
    KeyResult("O2-KR2", "p95 checkout latency under 300 ms", AMELIA, "ms", 900, 300, 0.97),
    KeyResult("O2-KR3", "Deploys a day from 3 to 12", AMELIA, "deploys", 3, 12, 1.0),
    KeyResult("O3-KR1", "All 6 department heads use the revenue dashboard weekly", PRIYA, "heads", 0, 6, 0.6),
    KeyResult("O3-KR2", "Answer an ad-hoc data question in 1 day, not 5", PRIYA, "days", 5, 1, 0.85, 1),
)


@dataclass(frozen=True)
class Story:
    """One request and what became of it.

    `script` is its check-ins, oldest first, one letter per slot of its cadence in the owner's
    zone: `o` on track, `r` at risk, `b` blocked, `m` missed, `d` done (the last), `p` still
    waiting for an answer (the last). `back` is how many of the owner's slots before the seed's
    moment the last letter stands (0: the latest slot)."""

    number: int
    title: str
    description: str
    okr: str
    requester: str
    team: str
    state: InitiativeState
    impact_level: int = 2
    impact: str = ""
    owner: str | None = None
    accepted_by: str = LENA
    cadence: str | None = None  # None: the workspace's default
    script: str = ""
    back: int = 0
    moves: tuple[str, ...] = ()
    blocker: str = ""
    progress: tuple[int, int] = (10, 60)
    metric: bool = False  # its check-ins report the KR's metric (one initiative per KR)
    due_in: int | None = None  # days from the seed's date
    needed_in: int | None = None
    forecast_late: int = 0  # days the owner's last forecast lies after the due date
    age_days: float = 0  # proposed/declined: how long ago it was submitted
    reason: str = ""  # declined / cancelled
    turns_blocked: bool = False  # the demo's stall: blocked since just under the threshold


STORIES: tuple[Story, ...] = (
    Story(
        1,
        "Self-serve refunds in the billing portal",
        "Customers email support for every refund. Let account owners refund an invoice line "
        "themselves, within the plan's refund policy, with an audit trail finance can read.",
        "O1-KR1",
        SAM,
        "Payments",
        InitiativeState.ACTIVE,
        impact_level=3,
        impact="refund tickets −120 a month",
        owner=MARCUS,
        script="ooooooo",
        moves=(
            "Refund policy rules agreed with finance",
            "Refund API behind a flag for internal accounts",
            "Portal screens through design review",
            "Audit trail events land in the finance export",
            "Beta with 12 customers, 31 refunds, no tickets",
            "Beta widened to 80 customers",
            "Support macro retired for beta customers",
        ),
        progress=(10, 70),
        metric=True,
        due_in=24,
    ),
    Story(
        2,
        "Retry failed card payments automatically",
        "A third of refund tickets start as a failed renewal. Retry soft declines on a smart "
        "schedule before we email the customer.",
        "O1-KR1",
        MARCUS,
        "Payments",
        InitiativeState.DONE,
        impact_level=2,
        impact="fewer failed renewals",
        owner=MARCUS,
        script="oood",
        back=3,
        moves=("Retry schedule chosen with the card processor", "Retries live for 10% of renewals"),
        progress=(30, 90),
        due_in=-15,
    ),
    Story(
        3,
        "Rate-limit the public API per customer",
        "One customer's batch job took the API down twice last quarter. Give every API key a "
        "quota and a fair share, with headers that tell clients how much they have left.",
        "O2-KR1",
        AMELIA,
        "Platform",
        InitiativeState.ACTIVE,
        impact_level=3,
        impact="no more noisy-neighbour outages",
        owner=AMELIA,
        script="oooooo",
        turns_blocked=True,
        moves=(
            "Quota model reviewed with the partner team",
            "Token-bucket service load-tested at 5x peak",
            "Headers and 429 responses documented",
            "Shadow mode on 20% of traffic",
            "Per-key dashboards for support",
            "Gateway config ready for the enterprise tier",
        ),
        blocker="The API gateway vendor has not signed the contract amendment; per-customer "
        "quotas need their enterprise tier",
        progress=(10, 55),
        due_in=17,
        forecast_late=5,
    ),
    Story(
        4,
        "One-page checkout",
        "Checkout is four steps; half of the drop-off is on the address step. Put it on one page.",
        "O1-KR2",
        DIEGO,
        "Growth",
        InitiativeState.ACTIVE,
        impact_level=3,
        impact="conversion +0.4 points",
        owner=DIEGO,
        script="oomoorr",
        moves=(
            "A/B test plan signed off",
            "Address autocomplete prototype",
            "One-page layout in staging",
            "Test running on 10% of traffic",
            "Mobile layout regressions found",
        ),
        blocker="Needs the new payments service's checkout endpoint before the test can go to 50%",
        progress=(5, 45),
        metric=True,
        due_in=10,
        forecast_late=9,
    ),
    Story(
        5,
        "Move checkout to the new payments service",
        "The old payments monolith adds 400 ms to every checkout. Route checkout through the new "
        "service, with the old path as a fallback.",
        "O2-KR2",
        DIEGO,
        "Platform",
        InitiativeState.ACTIVE,
        impact_level=3,
        impact="p95 checkout latency −300 ms",
        owner=AMELIA,
        cadence="weekly:tue@10:00",
        script="oooooo",
        moves=(
            "Service contract agreed with Payments",
            "Shadow traffic at 5%",
            "Fallback path tested in a game day",
            "Shadow traffic at 50%, p95 down 220 ms",
            "Cut-over runbook reviewed",
            "10% of real checkouts on the new path",
        ),
        progress=(10, 60),
        metric=True,
        due_in=31,
    ),
    Story(
        6,
        "Partner API for resellers",
        "Resellers re-key orders by hand. Give them API keys to create and manage their "
        "customers' subscriptions.",
        "O1-KR2",
        SAM,
        "Growth",
        InitiativeState.ACTIVE,
        impact_level=2,
        impact="resellers convert in-app, not by email",
        owner=DIEGO,
        script="ooooo",
        moves=(
            "Three resellers agreed to pilot",
            "API design reviewed",
            "Sandbox keys issued to pilot resellers",
            "Subscription endpoints in sandbox",
            "Pilot contracts signed",
        ),
        progress=(5, 40),
        due_in=38,
        needed_in=17,
    ),
    Story(
        7,
        "Revenue dashboard everyone trusts",
        "Every department has its own revenue spreadsheet and none agree. One dashboard, one "
        "definition, refreshed daily.",
        "O3-KR1",
        SOFIA,
        "Data",
        InitiativeState.ACTIVE,
        impact_level=3,
        impact="all 6 department heads on one number",
        owner=PRIYA,
        script="oooorrr",
        moves=(
            "Revenue definition agreed by finance and sales",
            "Dashboard skeleton with bookings",
            "Sales and marketing heads onboarded",
            "Daily refresh job in place",
            "Refunds and chargebacks still missing",
        ),
        blocker="Refunds and chargebacks come from Payments as a weekly CSV; the numbers drift "
        "until we get a daily export",
        progress=(10, 50),
        metric=True,
        due_in=14,
        forecast_late=7,
    ),
    Story(
        8,
        "Self-serve SQL sandbox for analysts",
        "Analysts queue for the data team to run queries. Give them a read-only sandbox with the "
        "cleaned tables and a query budget.",
        "O3-KR2",
        LENA,
        "Data",
        InitiativeState.ACTIVE,
        impact_level=2,
        impact="ad-hoc answers in a day",
        owner=PRIYA,
        script="oooomp",
        moves=(
            "Sandbox warehouse provisioned",
            "Cleaned tables published",
            "Query budget and alerts",
            "First 5 analysts onboarded",
        ),
        progress=(15, 50),
        metric=True,
        due_in=28,
    ),
    Story(
        9,
        "Status page with automatic incident updates",
        "Customers hear about outages from Twitter. Publish incidents to a status page straight "
        "from the on-call tool.",
        "O2-KR1",
        KENJI,
        "Platform",
        InitiativeState.DONE,
        owner=AMELIA,
        script="ooood",
        back=1,
        moves=(
            "Status page vendor chosen",
            "Components mapped to services",
            "On-call tool posts incidents",
            "Subscribers migrated",
        ),
        progress=(20, 90),
        due_in=-3,
    ),
    Story(
        10,
        "Cut the CI pipeline from 40 to 10 minutes",
        "Engineers batch changes because CI takes 40 minutes. Cache, split and parallelise it.",
        "O2-KR3",
        AMELIA,
        "Platform",
        InitiativeState.ACTIVE,
        owner=AMELIA,
        script="oooooo",
        moves=(
            "Build cache on shared runners",
            "Test suite split in 8 shards",
            "Flaky tests quarantined",
            "Median pipeline at 14 minutes",
        ),
        progress=(10, 85),
        metric=True,
        due_in=3,
    ),
    Story(
        11,
        "Apple Pay and Google Pay at checkout",
        "A quarter of checkouts are on phones and typing a card number is where they give up.",
        "O1-KR2",
        DIEGO,
        "Payments",
        InitiativeState.ACTIVE,
        impact_level=2,
        impact="mobile conversion +0.2 points",
        owner=MARCUS,
        script="ooobb",
        moves=("Wallets enabled in the processor sandbox", "Checkout buttons built", "Domain files hosted"),
        blocker="Apple's merchant domain verification keeps failing on the EU domain; ticket open with Apple",
        progress=(10, 40),
        due_in=2,
        forecast_late=14,
    ),
    Story(
        12,
        "Churn-risk score in the CRM",
        "Account managers want a red/amber/green churn score on every account.",
        "O3-KR2",
        SAM,
        "Data",
        InitiativeState.DECLINED,
        impact_level=1,
        age_days=12,
        reason="No OKR this quarter is about churn; bring it to next quarter's planning with the "
        "accounts it would have saved.",
    ),
    Story(
        13,
        "Nightly CSV export of bookings for finance",
        "Finance rebuilds the bookings sheet by hand every morning.",
        "O3-KR1",
        SOFIA,
        "Data",
        InitiativeState.CANCELLED,
        owner=PRIYA,
        script="oo",
        back=3,
        moves=("Export job drafted", "Finance reviewed the columns"),
        progress=(20, 40),
        reason="Finance will read the revenue dashboard (REQ-7) instead of a CSV",
    ),
    Story(
        14,
        "Bulk invoice download for enterprise customers",
        "Enterprise customers with hundreds of seats download invoices one by one for their "
        "auditors, then open a ticket. A zip of a date range from the billing portal would do.",
        "O1-KR1",
        SAM,
        "Payments",
        InitiativeState.PROPOSED,
        impact_level=3,
        impact="about 40 invoice tickets a month",
        age_days=0.8,
        needed_in=30,
    ),
    Story(
        15,
        "Per-customer feature flags",
        "Sales promises early access to single customers; today that takes a deploy.",
        "O2-KR3",
        DIEGO,
        "Platform",
        InitiativeState.PROPOSED,
        impact_level=2,
        impact="early access without a deploy",
        age_days=6,
        needed_in=45,
    ),
)

TRIAGE_STORY = 14  # the request waiting for triage that the demo starts with
# (waiter, provider story or team, what for, needed by in days from the seed's date); one on a done
# provider is met, the others are open
DEPENDENCIES: tuple[tuple[int, int | str, str, int], ...] = (
    (1, 2, "the retry service's payment ledger, so refunds reuse it", -10),
    (4, 5, "the new payments service's checkout endpoint", 24),
    (6, 3, "per-customer rate limits before partners get API keys", 17),
    (7, "Payments", "a daily export of refunds and chargebacks", 10),
)
STALL = (6, 3)  # the dependency that is about to stall: (waiter, provider)
