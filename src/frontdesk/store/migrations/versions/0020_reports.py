"""reports: a fact per conversation and counters per hour, folded from the event log (ADR 0010)

The consumer's cursor is a row of engine_cursors, "reports", written by its first batch: after an
upgrade the worker folds the whole log once, so the reports cover what happened before them. (No
row is written here: a freshly migrated database stays empty for `frontdesk migrate-to`.)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    stamp = sa.DateTime(timezone=op.get_bind().dialect.name == "postgresql")
    op.create_table(
        "report_conversations",
        sa.Column("conversation_id", _Id, autoincrement=False, nullable=False),
        sa.Column("opened_at", stamp, nullable=False),
        sa.Column("channel_id", _Id, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("team_id", _Id, nullable=False),
        sa.Column("agent_id", _Id, nullable=False),
        sa.Column("assigned_at", stamp, nullable=True),
        sa.Column("responded_at", stamp, nullable=True),
        sa.Column("queued_at", stamp, nullable=True),
        sa.Column("queue_team_id", _Id, nullable=False),
        sa.Column("dequeued_at", stamp, nullable=True),
        sa.Column("closed_at", stamp, nullable=True),
        sa.Column("category", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name="pk_report_conversations"),
    )
    op.create_table(
        "report_counts",
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("hour", _Id, autoincrement=False, nullable=False),
        sa.Column("channel_id", _Id, autoincrement=False, nullable=False),
        sa.Column("team_id", _Id, autoincrement=False, nullable=False),
        sa.Column("agent_id", _Id, autoincrement=False, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", _Id, nullable=False),
        sa.PrimaryKeyConstraint(
            "metric", "hour", "channel_id", "team_id", "agent_id", "label", "bucket", name="pk_report_counts"
        ),
        sqlite_with_rowid=False,  # rows in key order: a report reads a range of hours in one sweep
    )


def downgrade() -> None:
    op.execute("DELETE FROM engine_cursors WHERE name = 'reports'")
    op.drop_table("report_counts")
    op.drop_table("report_conversations")
