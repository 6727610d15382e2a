"""inbox and reassignment indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_assignee")
        batch_op.drop_index("ix_conversations_team")
        batch_op.drop_index("ix_conversations_reply_due")
        batch_op.create_index("ix_conversations_reply_due", ["status", "reply_due_at"], unique=False)
        batch_op.create_index("ix_conversations_assignee", ["assignee_id", "status", "last_message_at"], unique=False)
        batch_op.create_index("ix_conversations_team", ["team_id", "status", "last_message_at"], unique=False)
        batch_op.create_index(
            "ix_conversations_assignee_team", ["assignee_id", "team_id", "status", "last_message_at"], unique=False
        )

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_inbound",
            ["conversation_id", "id"],
            unique=False,
            sqlite_where=sa.text("direction = 'in'"),
            postgresql_where=sa.text("direction = 'in'"),
        )


def downgrade() -> None:

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_messages_inbound",
            sqlite_where=sa.text("direction = 'in'"),
            postgresql_where=sa.text("direction = 'in'"),
        )

    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index("ix_conversations_assignee_team")
        batch_op.drop_index("ix_conversations_team")
        batch_op.drop_index("ix_conversations_assignee")
        batch_op.drop_index("ix_conversations_reply_due")
        batch_op.create_index("ix_conversations_reply_due", ["reply_due_at"], unique=False)
        batch_op.create_index("ix_conversations_team", ["team_id", "status"], unique=False)
        batch_op.create_index("ix_conversations_assignee", ["assignee_id", "status"], unique=False)
