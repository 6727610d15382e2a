"""mailbox cursors: where each e-mail channel's IMAP poller stands (UIDVALIDITY, last UID read)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None
_Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    stamp = sa.DateTime(timezone=op.get_bind().dialect.name == "postgresql")
    op.create_table(
        "mailbox_cursors",
        sa.Column("channel_id", _Id, nullable=False),
        sa.Column("uidvalidity", _Id, nullable=False),
        sa.Column("last_uid", _Id, nullable=False),
        sa.Column("read_at", stamp, nullable=False),
        sa.ForeignKeyConstraint(
            ["channel_id"], ["channels.id"], name=op.f("fk_mailbox_cursors_channel_id_channels"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_mailbox_cursors")),
    )


def downgrade() -> None:
    op.drop_table("mailbox_cursors")
