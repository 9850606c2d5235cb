"""Intake's plain pieces: the limits a request is checked against, the ids of its surfaces (in
per-flow enums; the domain keys its field errors by the input block ids), what a modal carries in
its private_metadata, and the small models the domain fills in and the views render.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from storage.models import Initiative, InitiativeState

TITLE_LIMIT = 150
DESCRIPTION_LIMIT = 3000
IMPACT_LIMIT = 1000
WORK_LIMIT = 2000  # the linked-work field: a few links, one per line
TEAM_LIMIT = 100
NOTE_LIMIT = 1000  # a decline reason, a question
OPTION_TEXT_LIMIT = 75
IMPACT_LEVELS = {1: "low", 2: "medium", 3: "high"}
NO_OKR = "Link this request to an OKR — requests that move no OKR can't be queued"
QUEUE_LIMIT = 20
MAX_DEPENDENCIES = 10


class Shortcut(StrEnum):
    NEW_REQUEST = "new_request"  # global: "New request"
    FROM_MESSAGE = "request_from_message"  # message: "Turn into request"


class IntakeCallback(StrEnum):
    SUBMIT = "intake_submit"
    ACCEPT = "triage_accept_submit"
    DECLINE = "triage_decline_submit"
    ASK = "triage_ask_submit"
    ANSWER = "request_answer_submit"


class IntakeBlock(StrEnum):
    """Input blocks of the request modal (errors land on these)."""

    TITLE = "intake_title"
    DESCRIPTION = "intake_description"
    OKR = "intake_okr"
    OKR_URL = "intake_okr_url"
    IMPACT_LEVEL = "intake_impact_level"
    IMPACT = "intake_impact"
    NEEDED_BY = "intake_needed_by"
    TEAM = "intake_team"
    DEPENDS_ON = "intake_depends_on"
    DEPENDS_ON_TEAM = "intake_depends_on_team"
    WORK = "intake_work"  # Jira / GitHub links, when a tracker is set up


class IntakeAction(StrEnum):
    """External selects of the request modal: Slack asks for their options by these action ids."""

    OKR = "intake_okr_select"
    DEPENDS_ON = "intake_depends_on_select"


class TriageAction(StrEnum):
    """Buttons on the triage post and in `/initiative queue`; value: the initiative's id."""

    ACCEPT = "triage_accept"
    DECLINE = "triage_decline"
    ASK = "triage_ask"


class AcceptBlock(StrEnum):
    OWNER = "accept_owner"
    CADENCE = "accept_cadence"
    DAY = "accept_day"
    TIME = "accept_time"
    DUE = "accept_due"


class DeclineBlock(StrEnum):
    REASON = "decline_reason"


class AskBlock(StrEnum):
    QUESTION = "ask_question"


class RequestAction(StrEnum):
    """Buttons in the requester's DMs; value: the initiative's id."""

    ANSWER = "request_answer"


class AnswerBlock(StrEnum):
    ANSWER = "answer_text"


# -- private_metadata ------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeMeta:
    """What the request modal carries: a nonce (one submit = one request, however often it is sent)
    and, from a message shortcut, where the message is."""

    nonce: str
    channel: str | None = None
    ts: str | None = None

    @classmethod
    def new(cls, channel: str | None = None, ts: str | None = None) -> IntakeMeta:
        return cls(secrets.token_urlsafe(18), channel, ts)

    def dump(self) -> str:
        data = {"n": self.nonce, "c": self.channel, "t": self.ts}
        return json.dumps({k: v for k, v in data.items() if v})

    @classmethod
    def load(cls, text: str | None) -> IntakeMeta:
        try:
            data = json.loads(text or "{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        nonce = str(data.get("n") or "")[:100]
        return cls(nonce, _short(data.get("c")), _short(data.get("t")))


@dataclass(frozen=True)
class TriageMeta:
    """What a triage modal carries: the initiative, a nonce for "ask for info" and its answer,
    and, when the button was in a `/initiative queue` reply, that reply's response_url, so the
    queue can be shown again once the decision is made."""

    initiative_id: int
    nonce: str = ""
    refresh: str = ""

    def dump(self) -> str:
        data = {"i": self.initiative_id, "n": self.nonce, "r": self.refresh}
        return json.dumps({k: v for k, v in data.items() if v})

    @classmethod
    def load(cls, text: str | None) -> TriageMeta:
        data = json.loads(text or "{}")
        return cls(int(data["i"]), str(data.get("n") or ""), str(data.get("r") or "")[:500])


def _short(value: Any) -> str | None:
    return str(value)[:32] if value else None


def initiative_id_of(value: str | None) -> int:
    """The initiative id in a triage button's value; ValueError if there is none."""
    return int(str(value or "").strip())


def triage_key(initiative_id: int) -> str:
    """The outbox key of a request's triage post (thread under it, or edit it, with this)."""
    return f"request:{initiative_id}:triage"


# -- the request ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestForm:
    """The request modal as typed: raw text from Slack, checked by `submit`."""

    title: str | None
    description: str | None
    okr_id: str | None = None  # the OKR select's value (an okr id)
    okr_url: str | None = None
    impact_level: str | None = None  # "1" low, "2" medium, "3" high
    impact: str | None = None
    needed_by: date | None = None
    team_asked: str | None = None
    depends_on: Sequence[str] = ()  # initiative ids
    depends_on_team: str | None = None
    submission_key: str | None = None  # the modal's nonce: one modal, one request
    source_channel: str | None = None
    source_ts: str | None = None
    source_link: str | None = None
    work: str | None = None  # linked work: tracker links, one per line


@dataclass(frozen=True)
class Submitted:
    id: int
    key: str
    title: str
    created: bool  # False: this modal was submitted before; that request is returned
    triage_channel: str | None


@dataclass(frozen=True)
class Recorded:
    """What `service.submit` stored. A new request (`initiative` set) still has to wait on what it
    depends on (`providers`, `depends_team`, from the requester's `today`) and be announced: the
    flow does both. A repeated submit (`initiative` None) has nothing left to do."""

    submitted: Submitted
    initiative: Initiative | None = None
    providers: tuple[Initiative, ...] = ()
    depends_team: str | None = None
    today: date | None = None


# -- the request as triage sees it ----------------------------------------------------------------


@dataclass(frozen=True)
class RequestCard:
    """A request as triage sees it."""

    id: int
    key: str
    title: str
    description: str
    requester_id: str
    okr_key: str
    okr_title: str
    okr_url: str | None
    priority: int
    impact_level: int
    impact: str
    needed_by: date | None
    team_asked: str | None
    depends_on: tuple[str, ...]
    source_link: str | None
    state: InitiativeState
    created_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    owner_id: str | None = None
    cadence: str | None = None
    due_date: date | None = None
    decline_reason: str | None = None

    @property
    def weight(self) -> int:
        return self.priority * self.impact_level


@dataclass(frozen=True)
class TriageTarget:
    """A proposed request someone may triage: what the decision modals show."""

    id: int
    key: str
    title: str
    requester_id: str
    suggested_owner: str | None


@dataclass(frozen=True)
class Accepted:
    card: RequestCard
    first_checkin: datetime  # UTC
    owner_zone: str


@dataclass(frozen=True)
class AnswerTarget:
    """A question from triage the requester may answer: what the answer modal shows."""

    id: int
    key: str
    title: str
    asker_id: str
    question: str


# -- the queue ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    id: int
    key: str
    title: str
    okr_key: str
    priority: int
    impact_level: int
    requester_id: str
    created_at: datetime
    can_triage: bool

    @property
    def weight(self) -> int:
        return self.priority * self.impact_level


@dataclass(frozen=True)
class Queue:
    items: list[QueueItem]
    total: int
