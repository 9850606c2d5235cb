"""Adding one OKR (`/okr add`) and archiving one whose period is over.

An OKR whose period is over can be archived: it stays in history and on the initiatives that link
to it, but can no longer be picked for a new request.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import authz, history
from bot.core.authz import Action
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict, InvalidFields, NotFound
from bot.core.mrkdwn import escape, truncate
from bot.okrs.models import KEY_LIMIT, Archived, SourceRow
from bot.okrs.service.periods import parse_period, quarter_of
from bot.okrs.service.plan import apply, plan
from bot.okrs.service.reading import find
from bot.okrs.service.rows import _parse_fields, infer_parent
from storage.models import Okr, OkrKind


def subject(okr: Okr, parent: Okr | None) -> authz.Subject:
    """For MANAGE_OKRS: the OKR's owner and its objective's owner."""
    owners = tuple(o.owner_id for o in (okr, parent) if o is not None and o.owner_id)
    return authz.Subject(label=okr.key, okr_owner_ids=owners)


# -- /okr add -------------------------------------------------------------------------------------


def may_add(session: Session, team_id: str, user_id: str, settings: WorkspaceSettings) -> bool:
    """Can `user_id` add OKRs at all: an admin, or the owner of an active objective (for its KRs)."""
    if authz.can(Action.MANAGE_OKRS, user_id, settings):
        return True
    owned = session.scalar(
        sa.select(Okr.id)
        .where(
            Okr.team_id == team_id,
            Okr.kind == OkrKind.OBJECTIVE,
            Okr.owner_id == user_id,
            Okr.archived_at.is_(None),
        )
        .limit(1)
    )
    return owned is not None


def require_may_add(session: Session, team_id: str, user_id: str, settings: WorkspaceSettings) -> None:
    """Raise NotAllowed unless `user_id` may open the "add an OKR" form."""
    if not may_add(session, team_id, user_id, settings):
        authz.require(Action.MANAGE_OKRS, user_id, settings)


def add(
    session: Session,
    *,
    team_id: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    values: Mapping[str, str],
    today: date,
) -> Okr:
    """Register one new OKR from the `/okr add` form (`values` by column; `owner` a user id).

    Raises InvalidFields keyed by column name, or NotAllowed: objectives are added by admins, key
    results by admins and their objective's owner.
    """
    values = dict(values)
    key = (values.get("key") or "").strip().upper()
    is_objective = not (values.get("parent") or "").strip() and not (key and infer_parent(key))
    if is_objective and not (values.get("period") or "").strip():
        values["period"] = quarter_of(today)  # an objective needs one; a key result inherits
    row = SourceRow(1, {**values, "archived": ""})
    owner = (values.get("owner") or "").strip()
    planned = plan(
        session,
        team_id,
        [row],
        {owner: owner} if owner else {},
        today,
        url_patterns=settings.okr_url_patterns,
    )
    errors = {e.column: e.message for e in planned.errors}
    fields, _ = _parse_fields(row.values)
    if fields.key and find(session, team_id, fields.key) is not None:
        errors["key"] = f"{fields.key} already exists; change it by re-importing the OKR file"
    if "key" in errors or "parent" in errors:
        raise InvalidFields(errors)  # what it is must be clear before we can say who may add it
    parent = find(session, team_id, fields.parent) if fields.parent else None
    owners = (parent.owner_id,) if parent is not None and parent.owner_id else ()
    authz.require(
        Action.MANAGE_OKRS, actor_id, settings, authz.Subject(label=fields.key, okr_owner_ids=owners)
    )
    if parent is not None and parent.archived_at is not None:
        errors.setdefault("parent", f"{parent.key} is archived; add key results to a current objective")
    if errors:
        raise InvalidFields(errors)
    apply(session, planned, now, actor_id=actor_id, via="slack")
    return session.scalars(sa.select(Okr).where(Okr.team_id == team_id, Okr.key == fields.key)).one()


# -- archiving ------------------------------------------------------------------------------------


def archive(
    session: Session,
    *,
    team_id: str,
    key: str,
    actor_id: str,
    settings: WorkspaceSettings,
    now: datetime,
    today: date,
) -> Archived:
    """Archive an OKR whose period is over (an objective takes its key results with it).

    Raises NotFound, NotAllowed (admins, the OKR's owner, its objective's owner), Conflict (already
    archived), or InvalidFields {"period": ...} while its period is still running.
    """
    okr = find(session, team_id, key)
    if okr is None:
        shown = escape(truncate(key.strip().upper(), KEY_LIMIT))
        raise NotFound(f"There is no OKR {shown}. `/okr` lists them.")
    parent = session.get(Okr, okr.parent_id) if okr.parent_id else None
    authz.require(Action.MANAGE_OKRS, actor_id, settings, subject(okr, parent))
    if okr.archived_at is not None:
        raise Conflict(f"{okr.key} is already archived.")
    try:
        period = parse_period(okr.period) if okr.period else None
    except ValueError:
        period = None
    if period is not None and not period.is_over(today):
        raise InvalidFields(
            {
                "period": f"{okr.key}'s period {period.text} runs until "
                f"{period.end.strftime('%d %b %Y')}; it can be archived after that."
            }
        )
    archived = [okr]
    if okr.kind is OkrKind.OBJECTIVE:
        archived += list(
            session.scalars(
                sa.select(Okr)
                .where(Okr.team_id == team_id, Okr.parent_id == okr.id, Okr.archived_at.is_(None))
                .order_by(Okr.key)
            )
        )
    for item in archived:
        item.archived_at = now
        item.updated_at = now
        history.record(
            session,
            team_id=team_id,
            subject=f"okr:{item.id}",
            kind="okr.archived",
            at=now,
            actor_id=actor_id,
            key=item.key,
        )
    return Archived(okr.key, okr.title, [k.key for k in archived[1:]])
