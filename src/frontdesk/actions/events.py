"""Append to the event log, in the same transaction as the change it describes."""

from __future__ import annotations

from sqlalchemy import Connection

from frontdesk.clock import now
from frontdesk.domain.events import EventType, Payload
from frontdesk.store.database import wake
from frontdesk.store.sql import events


def emit(
    conn: Connection,
    type_: EventType,
    payload: Payload,
    *,
    contact_id: int | None = None,
    conversation_id: int | None = None,
) -> None:
    events.append(conn, type_, payload, contact_id, conversation_id, now())
    wake(conn, "events")
