"""reports: agents' online and away time (ADR 0010, amended)

The rollups are cleared with the consumer's cursor, so the worker folds the whole log again and
the agents' time covers the history that the log can tell (an `agent.created` written before this
version has no availability: the agent counts as offline until their first change).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    stamp = sa.DateTime(timezone=op.get_bind().dialect.name == "postgresql")
    op.create_table(
        "report_agent_presence",
        sa.Column("agent_id", _Id, autoincrement=False, nullable=False),
        sa.Column("availability", sa.String(16), nullable=False),
        sa.Column("since", stamp, nullable=False),
        sa.PrimaryKeyConstraint("agent_id", name="pk_report_agent_presence"),
    )
    op.create_table(
        "report_agent_time",
        sa.Column("agent_id", _Id, autoincrement=False, nullable=False),
        sa.Column("hour", _Id, autoincrement=False, nullable=False),
        sa.Column("availability", sa.String(16), nullable=False),
        sa.Column("seconds", _Id, nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "hour", "availability", name="pk_report_agent_time"),
        sqlite_with_rowid=False,  # an agent's range of hours in one sweep
    )
    for table in ("report_counts", "report_conversations", "report_days", "report_days_zone"):
        op.execute(f"DELETE FROM {table}")
    op.execute("DELETE FROM engine_cursors WHERE name = 'reports'")


def downgrade() -> None:
    op.drop_table("report_agent_time")
    op.drop_table("report_agent_presence")
