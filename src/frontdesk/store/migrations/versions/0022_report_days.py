"""reports: daily counters in the workspace's time zone, rolled up per filter (ADR 0010, amended)

The rollups are cleared with the consumer's cursor, so the worker folds the whole log again and
the daily counters cover the history too (as after `frontdesk reports rebuild`; the reports read
partial figures until it has).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "report_days",
        sa.Column("metric", sa.String(32), nullable=False),
        sa.Column("channel_id", _Id, autoincrement=False, nullable=False),
        sa.Column("team_id", _Id, autoincrement=False, nullable=False),
        sa.Column("agent_id", _Id, autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", _Id, nullable=False),
        sa.PrimaryKeyConstraint(
            "metric", "channel_id", "team_id", "agent_id", "day", "label", "bucket", name="pk_report_days"
        ),
        sqlite_with_rowid=False,  # rows in key order: a report reads its days under one filter in one sweep
    )
    op.create_table(
        "report_days_zone",
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("recounted_to", _Id, nullable=True),
        sa.PrimaryKeyConstraint("time_zone", name="pk_report_days_zone"),
    )
    op.execute("DELETE FROM report_counts")
    op.execute("DELETE FROM report_conversations")
    op.execute("DELETE FROM engine_cursors WHERE name = 'reports'")


def downgrade() -> None:
    op.drop_table("report_days_zone")
    op.drop_table("report_days")
