"""engine partitions: the event log split by contact, a cursor and a lease per partition (ADR 0009)

Every event gets its partition (`contact_id % 32`, 0 without a contact) and an index to read one
partition in id order. `engine_partitions` holds one row per partition: its cursor, and which
worker owns it until when; `engine_workers` the workers alive. Every partition's cursor starts
where the single "workflows" cursor stood, so an upgrade processes nothing twice and skips
nothing; that cursor row is then removed (a downgrade puts it back at the lowest partition's).

The number 32 is written here, not imported: this revision must keep meaning what it meant.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

PARTITIONS = 32
_OLD_CURSOR = "SELECT \"position\" FROM engine_cursors WHERE name = 'workflows'"
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    # The default only fills the rows already there (SQLite cannot drop it without rebuilding the
    # table, which would lose AUTOINCREMENT); every insert states the partition (store/sql/events.py).
    op.add_column("events", sa.Column("partition", sa.Integer(), nullable=False, server_default="0"))
    op.execute(f'UPDATE events SET "partition" = contact_id % {PARTITIONS} WHERE contact_id IS NOT NULL')
    op.create_index("ix_events_partition", "events", ["partition", "id"])
    stamp = sa.DateTime(timezone=op.get_bind().dialect.name == "postgresql")
    partitions = op.create_table(
        "engine_partitions",
        sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("position", _Id, nullable=False),
        sa.Column("owner", sa.String(64), nullable=True),
        sa.Column("lease_until", stamp, nullable=True),
        sa.Column("heartbeat_at", stamp, nullable=True),
        sa.PrimaryKeyConstraint("partition", name="pk_engine_partitions"),
    )
    op.create_table(
        "engine_workers",
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("lease_until", stamp, nullable=False),
        sa.Column("started_at", stamp, nullable=False),
        sa.PrimaryKeyConstraint("owner", name="pk_engine_workers"),
    )
    position = op.get_bind().execute(sa.text(_OLD_CURSOR)).scalar() or 0
    op.bulk_insert(partitions, [{"partition": p, "position": position} for p in range(PARTITIONS)])
    op.execute("DELETE FROM engine_cursors WHERE name = 'workflows'")


def downgrade() -> None:
    lowest = op.get_bind().execute(sa.text('SELECT min("position") FROM engine_partitions')).scalar() or 0
    op.execute(sa.text("INSERT INTO engine_cursors (name, \"position\") VALUES ('workflows', :p)").bindparams(p=lowest))
    op.drop_table("engine_workers")
    op.drop_table("engine_partitions")
    op.drop_index("ix_events_partition", "events")
    op.execute('ALTER TABLE events DROP COLUMN "partition"')  # not batch mode: it would lose AUTOINCREMENT
