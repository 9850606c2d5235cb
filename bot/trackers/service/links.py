"""The links stored: who may link, a link recorded, what the card lists, a tracker's news applied
to every link of the item (newer news only), and the reconcile's due links claimed."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from bot.core import authz, history
from bot.core.config import WorkspaceSettings
from bot.core.errors import Conflict
from bot.initiatives.service import find_initiative, initiative_subject
from bot.trackers.models import CARD_LINK_LIMIT, Item, Kind, LinkLine, Ref, Tracker
from storage.db import insert_ignore
from storage.integrations import TrackerComment, TrackerLink
from storage.models import OPEN_STATES, Initiative, SeenRequest

_SHOWN = ("title", "status", "done", "missing", "assignee", "done_count", "total_count")
_PROGRESS = ("status", "done", "missing", "done_count", "total_count")  # movement, for stalls


def ref_of(row: TrackerLink | TrackerComment) -> Ref:
    """Where a stored link (or a comment queued on one) points."""
    return Ref(Tracker(row.tracker), Kind(row.kind), row.site, row.ref)


def initiative_to_link(
    session: Session, team_id: str, key: str, actor_id: str, settings: WorkspaceSettings
) -> Initiative:
    """The open initiative `key` that `actor_id` may link work to; raises NotFound, NotAllowed, Conflict."""
    initiative = find_initiative(session, team_id, key)
    authz.require(authz.Action.LINK_WORK, actor_id, settings, initiative_subject(session, initiative))
    if initiative.state not in OPEN_STATES:
        raise Conflict(
            f"{initiative.key} is {initiative.state.value}: work is linked to open initiatives only."
        )
    return initiative


def _same_item(ref: Ref) -> sa.ColumnElement[bool]:
    """Rows about the item `ref`: a GitHub issue and pull request share their numbers, milestones not."""
    milestone = TrackerLink.kind == Kind.MILESTONE.value
    return sa.and_(
        TrackerLink.tracker == ref.tracker.value,
        TrackerLink.site == ref.site,
        TrackerLink.ref == ref.ref,
        milestone if ref.kind is Kind.MILESTONE else sa.not_(milestone),
    )


def store(
    session: Session, initiative: Initiative, item: Item, actor_id: str, now: datetime, every: timedelta
) -> bool:
    """Link `item` to `initiative` with what was read of it; True if the link is new (a second
    link of the same item only refreshes it)."""
    values = _values(item)
    new = insert_ignore(
        session,
        TrackerLink,
        {
            "team_id": initiative.team_id,
            "initiative_id": initiative.id,
            "tracker": item.ref.tracker.value,
            "kind": item.ref.kind.value,
            "site": item.ref.site,
            "ref": item.ref.ref,
            "linked_by": actor_id,
            "created_at": now,
            "checked_at": now,
            "status_since": now,
            "moved_at": now,
            # an epic too large to count in the link check is counted at the next tick
            "next_check_at": now if item.ref.kind is Kind.EPIC and item.total_count is None else now + every,
            **values,
        },
        ["team_id", "initiative_id", "tracker", "site", "kind", "ref"],
    )
    if new:
        history.record_initiative(
            session,
            initiative,
            "tracker.linked",
            at=now,
            actor_id=actor_id,
            link=item.ref.label,
            url=item.url,
        )
    else:
        apply(session, item, now)
    return new


def _values(item: Item) -> dict[str, object]:
    return {
        "url": item.url[:2000],
        "title": item.title[:300],
        "status": item.status[:60],
        "done": item.done,
        "missing": False,
        "assignee": item.assignee,
        "done_count": item.done_count,
        "total_count": item.total_count,
        "remote_updated_at": item.updated_at,
    }


def apply(session: Session, item: Item, now: datetime, *, webhook: bool = False) -> int:
    """What a tracker says of `item`, on every link to it (in every workspace), unless a link already
    holds newer news (a late or replayed webhook moves nothing back). Each visible change is an event
    in the initiative's history. Returns how many links changed."""
    rows = session.scalars(
        sa.select(TrackerLink).where(_same_item(item.ref)).order_by(TrackerLink.id).with_for_update()
    ).all()  # locked in one order: a webhook and the reconcile on the same item wait, never deadlock
    changed = 0
    for row in rows:
        if (
            item.updated_at is not None
            and row.remote_updated_at is not None
            and item.updated_at < row.remote_updated_at
        ):
            continue  # older than what we hold
        if webhook and item.ref.kind is Kind.EPIC and row.done_count is not None:
            # an epic's webhook carries no child counts: keep the counts the reconcile read
            item = replace(item, done_count=row.done_count, total_count=row.total_count)
        before = {name: getattr(row, name) for name in _SHOWN}
        for name, value in _values(item).items():
            setattr(row, name, value)
        row.kind = item.ref.kind.value
        row.checked_at = now
        after = {name: getattr(row, name) for name in _SHOWN}
        if after["status"] != before["status"] or row.status_since is None:
            row.status_since = now
        if any(after[k] != before[k] for k in _PROGRESS) or row.moved_at is None:
            row.moved_at = now
        if after != before:
            changed += 1
            moved = {k: [before[k], after[k]] for k in _SHOWN if before[k] != after[k]}
            history.record(
                session,
                team_id=row.team_id,
                subject=f"initiative:{row.initiative_id}",
                kind="tracker.moved",
                at=now,
                initiative_id=row.initiative_id,
                link=item.ref.label,
                url=row.url,
                moved=moved,
            )
    return changed


def mark_gone(session: Session, ref: Ref, now: datetime) -> int:
    """The item was deleted (or is no longer readable): its links say so."""
    rows = session.scalars(sa.select(TrackerLink).where(_same_item(ref), sa.not_(TrackerLink.missing))).all()
    for row in rows:
        row.missing, row.checked_at = True, now
        history.record(
            session,
            team_id=row.team_id,
            subject=f"initiative:{row.initiative_id}",
            kind="tracker.gone",
            at=now,
            initiative_id=row.initiative_id,
            link=ref.label,
        )
    return len(rows)


def check_soon(session: Session, ref: Ref, now: datetime) -> None:
    """Read the item again at the next reconcile (an epic whose child moved)."""
    session.execute(sa.update(TrackerLink).where(_same_item(ref)).values(next_check_at=now))


def card_lines(session: Session, team_id: str, initiative_id: int) -> tuple[list[LinkLine], int]:
    """The initiative's linked items, open ones first, then in the order linked (CARD_LINK_LIMIT at
    most), and how many there are: one statement."""
    rows = session.execute(
        sa.select(TrackerLink, sa.func.count().over())
        .where(TrackerLink.team_id == team_id, TrackerLink.initiative_id == initiative_id)
        .order_by(TrackerLink.done, TrackerLink.id)
        .limit(CARD_LINK_LIMIT)
    ).all()
    lines = [
        LinkLine(
            ref_of(r),
            r.url,
            r.title,
            r.status,
            r.done,
            r.missing,
            r.assignee,
            r.done_count,
            r.total_count,
        )
        for r, _ in rows
    ]
    return lines, int(rows[0][1]) if rows else 0


def claim_due(session: Session, now: datetime, limit: int, every: timedelta) -> list[Ref]:
    """The items whose links are due a reconcile (oldest first, at most `limit` links), claimed:
    their next check moves on by `every` before they are read, so another replica's tick skips them
    (and on PostgreSQL, rows another claims right now are skipped)."""
    rows = session.scalars(
        sa.select(TrackerLink)
        .where(TrackerLink.next_check_at <= now)
        .order_by(TrackerLink.next_check_at, TrackerLink.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    refs: dict[tuple[str, str, str, bool], Ref] = {}
    for row in rows:
        row.next_check_at = now + every
        ref = ref_of(row)
        refs.setdefault((row.tracker, row.site, row.ref, ref.kind is Kind.MILESTONE), ref)
    return list(refs.values())


def defer(session: Session, refs: list[Ref], until: datetime) -> None:
    """Read these again no sooner than `until` (the tracker asked us to wait)."""
    for ref in refs:
        session.execute(sa.update(TrackerLink).where(_same_item(ref)).values(next_check_at=until))


def first_delivery(session: Session, tracker: Tracker, delivery_id: str, now: datetime) -> bool:
    """Record a webhook's delivery id; True the first time. Kept as long as Slack's retries (two days,
    bot.slack.redelivery); a replay after that is older than what the links hold, and moves nothing."""
    return insert_ignore(
        session,
        SeenRequest,
        {"key": f"webhook:{tracker.value}:{delivery_id}"[:200], "team_id": "", "seen_at": now},
        ["key"],
    )
