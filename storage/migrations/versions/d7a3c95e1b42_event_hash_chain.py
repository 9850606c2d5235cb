"""event hash chain: each workspace's events chained by hash; the existing ones chained here

Each event gets its place in its workspace's chain (`seq`), the hash of the event before it and its
own (storage/chain.py), and each workspace a head row that writers lock in turn. The events already
stored are chained in id order (the order they were written), in batches of `online.BATCH`, one
short UPDATE per batch. Events the release before writes while the replicas are rolled stay without
a place until the next commit of an event in their workspace chains them (bot/core/chain.py).

Revision ID: d7a3c95e1b42
Revises: e5a9c2d4b6f1
Create Date: 2026-12-03 06:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types
from storage import online
from storage.chain import GENESIS, event_hash

revision = "d7a3c95e1b42"
down_revision = "e5a9c2d4b6f1"
branch_labels = None
depends_on = None

EVENT = sa.table(
    "event",
    sa.column("id", sa.Integer),
    sa.column("team_id", sa.String),
    sa.column("subject", sa.String),
    sa.column("kind", sa.String),
    sa.column("actor_id", sa.String),
    sa.column("initiative_id", sa.Integer),
    sa.column("data", storage.types.JSONType),
    sa.column("at", storage.types.UTCDateTime()),
    sa.column("seq", sa.Integer),
)
SEAL = sa.text("UPDATE event SET seq = :seq, prev_hash = :prev_hash, hash = :hash WHERE id = :id")


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer, "sqlite")
    # a new, empty table: creating it locks nothing anyone else uses
    op.create_table(
        "event_chain",
        sa.Column("team_id", storage.types.CleanString(length=32), nullable=False),
        sa.Column("seq", big, nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("team_id", name=op.f("pk_event_chain")),
    )
    with online.steps() as steps:
        steps.add_column("event", sa.Column("seq", big, nullable=True))
        steps.add_column("event", sa.Column("prev_hash", sa.String(length=64), nullable=True))
        steps.add_column("event", sa.Column("hash", sa.String(length=64), nullable=True))
        heads = _chain_the_stored_events(steps.connection)
        steps.create_index("uq_event_team_id_seq", "event", ["team_id", "seq"], unique=True)
    if heads:
        op.get_bind().execute(
            sa.text("INSERT INTO event_chain (team_id, seq, head_hash) VALUES (:team_id, :seq, :head_hash)"),
            [{"team_id": t, "seq": seq, "head_hash": head} for t, (seq, head) in sorted(heads.items())],
        )


def _chain_the_stored_events(connection: sa.Connection) -> dict[str, tuple[int, str]]:
    """Every event without a place, in id order (per workspace: the order they were written), a
    batch at a time, each batch one executemany UPDATE by primary key. Returns each workspace's
    head. Events written meanwhile by the running release have higher ids: the walk reaches them."""
    heads: dict[str, tuple[int, str]] = {}
    after = 0
    while True:
        rows = connection.execute(
            sa.select(EVENT)
            .where(EVENT.c.id > after, EVENT.c.seq.is_(None))
            .order_by(EVENT.c.id)
            .limit(online.BATCH)
        ).all()
        if not rows:
            return heads
        sealed = []
        for row in rows:
            seq, head = heads.get(row.team_id, (0, GENESIS))
            fields = dict(row._mapping)
            fields["seq"] = seq + 1
            digest = event_hash(fields, head)
            sealed.append({"id": row.id, "seq": seq + 1, "prev_hash": head, "hash": digest})
            heads[row.team_id] = (seq + 1, digest)
        connection.execute(SEAL, sealed)
        after = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index("uq_event_team_id_seq")
        batch_op.drop_column("hash")
        batch_op.drop_column("prev_hash")
        batch_op.drop_column("seq")
    op.drop_table("event_chain")
