"""The hash chain over each workspace's history: what makes an edit, a deletion or an insertion of
an event in the database visible to `throughline audit verify`.

Each event gets a place (`seq`, 1..n per workspace), the hash of the event before it (`prev_hash`)
and its own `hash`: SHA-256 of a canonical JSON of its content and `prev_hash`. Places are taken at
commit, with the workspace's head row locked (storage/chain.py), so replicas writing at once take
turns for the moment of their commit and the chain never forks. The chain proves nothing against
someone who rewrites all of it from the first changed event on; an anchor kept outside the
database does (docs/export-and-audit.md).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from storage import chain as storage_chain
from storage.chain import event_hash
from storage.models import Event

PENDING = "throughline_chain_pending"
_HOOKED = "throughline_chain_hooked"


def _fields(event: Event) -> dict[str, Any]:
    return {
        "team_id": event.team_id,
        "seq": event.seq,
        "subject": event.subject,
        "kind": event.kind,
        "actor_id": event.actor_id,
        "initiative_id": event.initiative_id,
        "data": event.data,
        "at": event.at,
    }


def follow(session: Session, event: Event) -> None:
    """Give `event` (just added to `session`) its place in the chain when the session commits."""
    session.info.setdefault(PENDING, []).append(event)
    if not session.info.get(_HOOKED):
        sa_event.listen(session, "before_commit", seal)
        sa_event.listen(session, "after_rollback", _forget)
        session.info[_HOOKED] = True


def _forget(session: Session) -> None:
    session.info.pop(PENDING, None)


def seal(session: Session) -> None:
    """Chain the events this transaction added, workspace by workspace (in team order, so two
    transactions writing to the same workspaces lock their heads in the same order): lock the head,
    place first any stored events still without a place, then ours, and move the head."""
    pending: list[Event] = session.info.pop(PENDING, None) or []
    if not pending:
        return
    # every other change first, so the head is the last lock this transaction takes: holding it, it
    # touches only its own events and the head, and so never waits for a lock another writer holds
    # while that writer waits for the head (a deadlock on PostgreSQL)
    session.flush()
    with session.no_autoflush:
        for team_id in sorted({e.team_id for e in pending}):
            seq, head = storage_chain.lock_head(session, team_id)
            waiting = storage_chain.unchained(session, team_id)
            seen = {id(e) for e in waiting}
            ours = [e for e in pending if e.team_id == team_id and id(e) not in seen and e in session]
            for event in [*waiting, *ours]:
                seq += 1
                event.seq = seq
                event.prev_hash = head
                event.hash = head = event_hash(_fields(event), head)
            storage_chain.move_head(session, team_id, seq, head)
