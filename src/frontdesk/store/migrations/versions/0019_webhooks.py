"""outgoing event webhooks: subscriptions (a cursor on the event log each) and their delivery log

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    stamp = sa.DateTime(timezone=op.get_bind().dialect.name == "postgresql")
    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", _Id, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("event_types", _Json, nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("position", _Id, nullable=False),
        sa.Column("attempt", _Id, nullable=False),
        sa.Column("next_attempt_at", stamp, nullable=False),
        sa.Column("lease_until", stamp, nullable=True),
        sa.Column("head_since", stamp, nullable=True),
        sa.Column("failing_since", stamp, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("disabled_at", stamp, nullable=True),
        sa.Column("created_at", stamp, nullable=False),
        sa.Column("updated_at", stamp, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_subscriptions"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _Id, nullable=False),
        sa.Column("subscription_id", _Id, nullable=False),
        sa.Column("event_id", _Id, nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("attempt", _Id, nullable=False),
        sa.Column("attempted_at", stamp, nullable=False),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("status_code", _Id, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("latency_ms", _Id, nullable=False),
        sa.Column("response_excerpt", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name="fk_webhook_deliveries_subscription_id_webhook_subscriptions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
    )
    op.create_index("ix_webhook_deliveries_subscription", "webhook_deliveries", ["subscription_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_subscription", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_subscriptions")
