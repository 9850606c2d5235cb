"""Submitting a request: the request modal checked field by field, and the request stored."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.core import authz, history
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.core.errors import InvalidFields
from bot.core.text import clean, one_line
from bot.core.workspaces import allocate_request_number
from bot.intake.models import (
    DESCRIPTION_LIMIT,
    IMPACT_LEVELS,
    IMPACT_LIMIT,
    MAX_DEPENDENCIES,
    NO_OKR,
    TEAM_LIMIT,
    TITLE_LIMIT,
    IntakeBlock,
    Recorded,
    RequestForm,
    Submitted,
)
from bot.okrs.service import links as okrs_links
from bot.okrs.service import reading as okrs_reading
from storage.models import OPEN_STATES, Initiative, InitiativeState, Okr, Person


def submit(
    session: Session,
    *,
    team_id: str,
    requester_id: str,
    form: RequestForm,
    settings: WorkspaceSettings,
    now: datetime,
) -> Recorded:
    """Record a request from the intake modal; `flows.submit` then makes it wait on what it depends
    on and tells the requester and the triage channel.

    Raises InvalidFields keyed by `IntakeBlock` (no OKR, unknown or archived OKR, a link not on an
    allowed OKR host, empty or over-long title, needed-by date in the past, ...). A second submit
    with the same `submission_key` returns the first request (and nothing is left to do).
    """
    authz.require(Action.SUBMIT_REQUEST, requester_id, settings)
    if form.submission_key:
        existing = _by_submission(session, team_id, form.submission_key)
        if existing is not None:
            return Recorded(
                Submitted(existing.id, existing.key, existing.title, False, settings.triage_channel)
            )

    requester = session.scalar(
        sa.select(Person).where(Person.team_id == team_id, Person.user_id == requester_id)
    )
    today = okrs_reading.today_in(settings, now, requester)
    errors: dict[str, str] = {}
    title = one_line(form.title)
    if not title:
        errors[IntakeBlock.TITLE] = "Give the request a title."
    elif len(title) > TITLE_LIMIT:
        errors[IntakeBlock.TITLE] = f"Keep the title under {TITLE_LIMIT} characters (it has {len(title)})."
    description = clean(form.description)
    if not description:
        errors[IntakeBlock.DESCRIPTION] = "Say what is needed and why."
    elif len(description) > DESCRIPTION_LIMIT:
        errors[IntakeBlock.DESCRIPTION] = f"Keep it under {DESCRIPTION_LIMIT} characters."
    okr = _resolve_okr(session, team_id, settings, form.okr_id, form.okr_url, errors)
    impact_level = _impact_level(form.impact_level)
    if impact_level is None:
        errors[IntakeBlock.IMPACT_LEVEL] = "Pick the impact you expect on the OKR."
    impact = clean(form.impact)
    if len(impact) > IMPACT_LIMIT:
        errors[IntakeBlock.IMPACT] = f"Keep it under {IMPACT_LIMIT} characters."
    if form.needed_by is None:
        errors[IntakeBlock.NEEDED_BY] = "Pick the date you need this by."
    elif form.needed_by < today:
        errors[IntakeBlock.NEEDED_BY] = f"The needed-by date is in the past (today is {today.isoformat()})."
    team_asked = _team(form.team_asked, settings, IntakeBlock.TEAM, errors, required=True)
    depends_team = _team(form.depends_on_team, settings, IntakeBlock.DEPENDS_ON_TEAM, errors, required=False)
    providers = _providers(session, team_id, form.depends_on, errors)
    if errors:
        raise InvalidFields(errors)
    assert okr is not None and impact_level is not None

    try:
        with session.begin_nested():  # a concurrent twin of this submit rolls back only this part
            number = allocate_request_number(session, team_id, now)
            initiative = Initiative(
                team_id=team_id,
                number=number,
                key=f"{settings.key_prefix}-{number}",
                title=title,
                description=description,
                requester_id=requester_id,
                okr_id=okr.id,
                impact_level=impact_level,
                impact=impact,
                needed_by=form.needed_by,
                team_asked=team_asked,
                state=InitiativeState.PROPOSED,
                source_channel=form.source_channel,
                source_ts=form.source_ts,
                source_link=form.source_link
                if form.source_link and okrs_links.is_link(form.source_link)
                else None,
                submission_key=form.submission_key or None,
                created_at=now,
                updated_at=now,
            )
            session.add(initiative)
            session.flush()
    except IntegrityError:
        existing = _by_submission(session, team_id, form.submission_key) if form.submission_key else None
        if existing is None:
            raise
        return Recorded(Submitted(existing.id, existing.key, existing.title, False, settings.triage_channel))

    history.record_initiative(
        session,
        initiative,
        "request.submitted",
        at=now,
        actor_id=requester_id,
        key=initiative.key,
        okr=okr.key,
        impact_level=impact_level,
        weight=okr.priority * impact_level,
        source_link=initiative.source_link,
    )
    return Recorded(
        Submitted(initiative.id, initiative.key, initiative.title, True, settings.triage_channel),
        initiative,
        tuple(providers),
        depends_team,
        today,
    )


def _by_submission(session: Session, team_id: str, submission_key: str) -> Initiative | None:
    return session.scalar(
        sa.select(Initiative).where(
            Initiative.team_id == team_id, Initiative.submission_key == submission_key[:100]
        )
    )


def _impact_level(text: str | None) -> int | None:
    try:
        value = int((text or "").strip())
    except ValueError:
        return None
    return value if value in IMPACT_LEVELS else None


def _team(
    text: str | None, settings: WorkspaceSettings, block: str, errors: dict[str, str], *, required: bool
) -> str | None:
    team = one_line(text)
    if not team:
        if required:
            errors[block] = "Say which team is asked."
        return None
    if len(team) > TEAM_LIMIT:
        errors[block] = f"Keep the team's name under {TEAM_LIMIT} characters."
    elif settings.teams and team not in settings.teams:
        errors[block] = f"Pick one of the teams: {', '.join(sorted(settings.teams))}."
    return team


def _providers(
    session: Session, team_id: str, ids: Sequence[str], errors: dict[str, str]
) -> list[Initiative]:
    wanted: list[int] = []
    for value in ids:
        try:
            wanted.append(int(value))
        except (TypeError, ValueError):
            errors[IntakeBlock.DEPENDS_ON] = "Pick initiatives from the list."
            return []
    if len(set(wanted)) > MAX_DEPENDENCIES:
        errors[IntakeBlock.DEPENDS_ON] = f"Pick at most {MAX_DEPENDENCIES}."
        return []
    if not wanted:
        return []
    found = {
        i.id: i
        for i in session.scalars(
            sa.select(Initiative).where(Initiative.team_id == team_id, Initiative.id.in_(set(wanted)))
        )
    }
    problems = []
    for initiative_id in dict.fromkeys(wanted):
        item = found.get(initiative_id)
        if item is None:
            problems.append("one of them no longer exists")
        elif item.state not in OPEN_STATES:
            problems.append(f"{item.key} is {item.state.value}")
    if problems:
        errors[IntakeBlock.DEPENDS_ON] = f"These can't be waited on: {'; '.join(problems)}."
        return []
    return [found[i] for i in dict.fromkeys(wanted)]


def _resolve_okr(
    session: Session,
    team_id: str,
    settings: WorkspaceSettings,
    okr_id: str | None,
    url: str | None,
    errors: dict[str, str],
) -> Okr | None:
    """The registered, active OKR the request names by the select or by a link; errors on the
    block that named it."""
    picked: Okr | None = None
    linked: Okr | None = None
    if okr_id:
        try:
            picked = session.get(Okr, int(okr_id))
        except (TypeError, ValueError):
            picked = None
        if picked is None or picked.team_id != team_id:
            picked = None
            errors[IntakeBlock.OKR] = "That OKR is unknown here. Pick one from the list."
        elif (problem := _archived(session, picked)) is not None:
            errors[IntakeBlock.OKR] = problem
            picked = None
    url = (url or "").strip()
    if url:
        if not okrs_links.is_link(url):
            errors[IntakeBlock.OKR_URL] = "That isn't a link: paste the OKR's https:// address."
        elif not okrs_links.url_allowed(settings, url):
            hosts = ", ".join(okrs_links.allowed_hosts(settings)) or "none are configured"
            errors[IntakeBlock.OKR_URL] = (
                f"That link is not on an allowed OKR host ({hosts}). Pick the OKR from the list instead."
            )
        else:
            linked = okrs_reading.find_by_url(session, team_id, url)
            if linked is None:
                errors[IntakeBlock.OKR_URL] = (
                    "That link is not a known OKR. Pick it from the list above, or ask an admin to "
                    "import it (`/okr` lists the OKRs Throughline knows)."
                )
            elif (problem := _archived(session, linked)) is not None:
                errors[IntakeBlock.OKR_URL] = problem
                linked = None
    if picked is not None and linked is not None and picked.id != linked.id:
        errors[IntakeBlock.OKR_URL] = (
            f"This link is {linked.key}, but you picked {picked.key} above. Keep one, or make them match."
        )
        return None
    if not okr_id and not url:
        errors[IntakeBlock.OKR] = NO_OKR
    return picked or linked


def _archived(session: Session, okr: Okr) -> str | None:
    parent = session.get(Okr, okr.parent_id) if okr.parent_id else None
    if okrs_reading.selectable(okr, parent):
        return None
    gone = okr if okr.archived_at is not None else parent
    assert gone is not None
    period = f" (its period {gone.period} is over)" if gone.period else ""
    which = "is archived" if gone is okr else f"belongs to {gone.key}, which is archived"
    return f"{okr.key} {which}{period}: it can't take new requests. Pick a current OKR."
