"""The event log as the live feeds read it (the inbox's streams, the web chat's): where it ends,
and what came after a cursor."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from frontdesk.store.tables import events


def last_event_id(conn: Connection) -> int:
    return int(conn.execute(select(func.max(events.c.id))).scalar() or 0)


def events_after(conn: Connection, after: int, limit: int) -> list[dict[str, Any]]:
    """`{id, type, conversation_id, contact_id}` of the events after `after`, oldest first."""
    query = (
        select(events.c.id, events.c.type, events.c.conversation_id, events.c.contact_id)
        .where(events.c.id > after)
        .order_by(events.c.id)
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
