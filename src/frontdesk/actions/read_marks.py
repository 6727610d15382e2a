"""Read marks: how far each agent has read each conversation (the inbox's unread counts)."""

from __future__ import annotations

from sqlalchemy import Connection

from frontdesk.store.sql import conversations as sql


def mark_read(conn: Connection, agent_id: int, conversation_id: int) -> None:
    """The agent has seen the conversation up to its newest message."""
    newest = sql.newest_message_id(conn, conversation_id)
    if newest is not None:
        sql.set_read_mark(conn, agent_id, conversation_id, newest)
