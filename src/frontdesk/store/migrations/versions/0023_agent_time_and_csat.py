"""reports: agents' online and away time (ADR 0010, amended); CSAT surveys

Channels get the "CSAT survey" setting (off), and `csat_surveys` one row per close a survey was
offered for, which its rating fills once.

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
    with op.batch_alter_table("channels") as batch_op:
        batch_op.add_column(sa.Column("csat_survey", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "csat_surveys",
        sa.Column("id", _Id, autoincrement=True, nullable=False),
        sa.Column("conversation_id", _Id, nullable=False),
        sa.Column("closed_at", stamp, nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("rated_at", stamp, nullable=True),
        sa.Column("created_at", stamp, nullable=False),
        sa.ForeignKeyConstraint(["conversation_id"], ["conversations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_csat_surveys"),
        sa.UniqueConstraint("conversation_id", "closed_at", name="uq_csat_surveys_close"),
    )
    for table in ("report_counts", "report_conversations", "report_days", "report_days_zone"):
        op.execute(f"DELETE FROM {table}")
    op.execute("DELETE FROM engine_cursors WHERE name = 'reports'")


def downgrade() -> None:
    op.drop_table("csat_surveys")
    with op.batch_alter_table("channels") as batch_op:
        batch_op.drop_column("csat_survey")
    op.drop_table("report_agent_time")
    op.drop_table("report_agent_presence")
