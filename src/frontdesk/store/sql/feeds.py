"""The event log as the live feeds read it (the inbox's streams, the web chat's): what came after
a cursor. Where the log ends is `store.sql.events.last_id`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from frontdesk.store.tables import events


def events_after(conn: Connection, after: int, limit: int) -> list[dict[str, Any]]:
    """`{id, type, conversation_id, contact_id}` of the events after `after`, oldest first."""
    query = (
        select(events.c.id, events.c.type, events.c.conversation_id, events.c.contact_id)
        .where(events.c.id > after)
        .order_by(events.c.id)
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
