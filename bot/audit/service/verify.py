"""Walking a workspace's hash chain (`throughline audit verify`): every event's hash recomputed
from its content and compared, every link to the event before followed, the places counted
1..n and the head row compared with the end. Streams: memory stays flat however long the chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.audit.models import Anchor, Break, ChainReport, Problem
from storage import chain as storage_chain

MAX_LISTED = 20  # problems listed per workspace; the rest are counted


def teams(session: Session, team_id: str | None = None) -> list[str]:
    """The workspaces to check: `team_id`, or every one with events or a chain head."""
    if team_id is not None:
        return [team_id]
    return sorted(set(storage_chain.event_teams(session)) | set(storage_chain.heads(session)))


def _where(row: Any) -> str:
    return f"event {row.id} (#{row.seq}, {row.kind}, at {storage_chain.instant(row.at)})"


def verify(session: Session, team_id: str, anchor: Anchor | None = None) -> ChainReport:
    """Check `team_id`'s chain; with `anchor`, also that its first `anchor.count` events still end
    with `anchor.head` (which catches a rewrite of the whole chain, or of its end)."""
    report = ChainReport(team_id)

    def found(kind: Break, text: str, row: Any = None) -> None:
        if len(report.problems) >= MAX_LISTED:
            report.more += 1
            return
        report.problems.append(
            Problem(
                team_id, kind, text, row.id if row is not None else None, row.at if row is not None else None
            )
        )

    expected, prev_hash, last = 1, storage_chain.GENESIS, None
    anchored: str | None = storage_chain.GENESIS if anchor is not None and anchor.count == 0 else None
    head_seq, head_hash = storage_chain.heads(session, team_id).get(team_id, (0, storage_chain.GENESIS))
    for row in storage_chain.chained(session, team_id):
        if row.seq > head_seq:
            found(Break.INSERTED, f"{_where(row)} was inserted after the head (#{head_seq})", row)
        elif row.seq > expected:
            missing = f"#{expected}" if row.seq == expected + 1 else f"#{expected}..#{row.seq - 1}"
            after = f"event {last.id}" if last is not None else "the start"
            found(Break.DELETED, f"{missing} deleted: the chain goes from {after} to {_where(row)}", row)
        elif row.prev_hash != prev_hash:
            before = f"event {last.id}" if last is not None else "the start"
            found(
                Break.INSERTED,
                f"{_where(row)} is out of place: it does not follow {before} (one of them was rewritten)",
                row,
            )
        if storage_chain.event_hash(row._mapping, row.prev_hash or "") != row.hash:
            found(Break.CHANGED, f"{_where(row)} was changed: its content no longer gives its hash", row)
        expected, prev_hash, last = row.seq + 1, row.hash, row
        report.count += 1
        if anchor is not None and row.seq == anchor.count:
            anchored = row.hash
    end = expected - 1
    if end < head_seq:
        missing = f"#{end + 1}" if end + 1 == head_seq else f"#{end + 1}..#{head_seq}"
        after = f"after {_where(last)}" if last is not None else "every event"
        found(Break.DELETED, f"{missing} deleted: the head is #{head_seq}, the chain ends {after}")
    elif end == head_seq and prev_hash != head_hash and last is not None:
        found(Break.CHANGED, f"{_where(last)} is not the head the last writer left (#{head_seq})", last)
    for row in storage_chain.outside(session, team_id):
        found(
            Break.INSERTED,
            f"event {row.id} ({row.kind}, at {storage_chain.instant(row.at)}) has no "
            "place in the chain: inserted directly, or written by the release before it",
            row,
        )
    if anchor is not None and anchored != anchor.head:
        why = "it is shorter" if anchor.count > end else f"#{anchor.count} has another hash"
        found(Break.ANCHOR, f"the chain no longer holds anchor {anchor}: {why} (rewritten or cut since)")
    if report.ok:
        report.anchor = Anchor(report.count, prev_hash)
    return report
