"""sms opt-out: a contact's identity on a channel remembers when they sent STOP (null: not opted out)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    stamp = sa.DateTime(timezone=op.get_bind().dialect.name == "postgresql")
    op.add_column("contact_identities", sa.Column("opted_out_at", stamp, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("contact_identities", schema=None) as batch_op:
        batch_op.drop_column("opted_out_at")
