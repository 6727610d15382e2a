"""reports: agents' online and away time (ADR 0010, amended); CSAT surveys

Channels get the "CSAT survey" setting (off), and `csat_surveys` one row per close a survey was
offered for, which its rating fills once.

The rollups and their cursor are kept: folding a large log again would take the reports away for
as long as it runs. Each agent's presence starts as the agents table says it now (availability,
since its last change), so the agents' time counts from the upgrade on; the events of the log not
yet folded move it as the fold meets them (an interval that would end before it starts counts
nothing). `frontdesk reports rebuild` counts the agents' time from the whole log instead.

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
    op.execute(
        "INSERT INTO report_agent_presence (agent_id, availability, since)"
        " SELECT id, availability, availability_changed_at FROM agents"
    )


def downgrade() -> None:
    op.drop_table("csat_surveys")
    with op.batch_alter_table("channels") as batch_op:
        batch_op.drop_column("csat_survey")
    op.drop_table("report_agent_time")
    op.drop_table("report_agent_presence")
