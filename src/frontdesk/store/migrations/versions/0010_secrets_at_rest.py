"""secrets at rest: channel secrets sealed, rotation columns, named secrets

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from frontdesk.store.encryption import PREFIX, box_of

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":  # SQLite does not enforce lengths; sealed text is longer than 128
        op.alter_column("channels", "secret", type_=sa.Text(), existing_nullable=False)
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_secret", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("previous_secret_until", sa.DateTime(), nullable=True))
    op.create_table(
        "named_secrets",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_named_secrets")),
    )
    _seal_plain_channel_secrets(bind)


def _seal_plain_channel_secrets(bind: sa.Connection) -> None:
    """Channel secrets written before this revision are plain text: seal them with the key."""
    channels = sa.table("channels", sa.column("id", sa.Integer), sa.column("secret", sa.Text))
    plain = bind.execute(sa.select(channels.c.id, channels.c.secret).where(~channels.c.secret.startswith(PREFIX)))
    rows = plain.all()
    if not rows:
        return
    box = box_of(bind.dialect)
    for row in rows:
        bind.execute(sa.update(channels).where(channels.c.id == row.id).values(secret=box.seal(row.secret)))


def downgrade() -> None:
    op.drop_table("named_secrets")
    with op.batch_alter_table("channels", schema=None) as batch_op:
        batch_op.drop_column("previous_secret_until")
        batch_op.drop_column("previous_secret")
