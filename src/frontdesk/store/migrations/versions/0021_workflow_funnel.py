"""workflow funnel: counters per workflow version, step and hour, folded from the run steps (ADR 0011)

The fold's cursor is a row of engine_cursors, "funnel", written by its first batch: after an
upgrade the worker folds every recorded run step once. `report_run_waits` holds, per run waiting
at a step, where and since when, so that the time spent there is counted when the run leaves it.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    stamp = sa.DateTime(timezone=op.get_bind().dialect.name == "postgresql")
    op.create_table(
        "report_funnel",
        sa.Column("version_id", _Id, autoincrement=False, nullable=False),
        sa.Column("hour", _Id, autoincrement=False, nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("label", sa.String(64), nullable=False),
        sa.Column("bucket", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("count", _Id, nullable=False),
        sa.PrimaryKeyConstraint("version_id", "hour", "step_id", "metric", "label", "bucket", name="pk_report_funnel"),
        sqlite_with_rowid=False,  # rows in key order: a funnel reads one version's range of hours in one sweep
    )
    op.create_table(
        "report_run_waits",
        sa.Column("run_id", _Id, autoincrement=False, nullable=False),
        sa.Column("step_id", sa.String(64), nullable=False),
        sa.Column("since", stamp, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_report_run_waits"),
    )


def downgrade() -> None:
    op.execute("DELETE FROM engine_cursors WHERE name = 'funnel'")
    op.drop_table("report_run_waits")
    op.drop_table("report_funnel")
