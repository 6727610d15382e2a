"""The event log as the API pages through it, in commit order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from frontdesk.store.sql.paging import page_size
from frontdesk.store.tables import events


def list_events(conn: Connection, after: int, limit: int, types: list[str] | None) -> list[dict[str, Any]]:
    query = select(events).where(events.c.id > after).order_by(events.c.id).limit(page_size(limit))
    if types:
        query = query.where(events.c.type.in_(types))
    return [dict(r) for r in conn.execute(query).mappings()]
