"""The event log and the cursors that read it: appended in the writer's transaction with the
change each event describes, consumed in id order (ids are never reused: AUTOINCREMENT).

Readers move a cursor past the ids they read, so an event must never commit after an event with
a higher id (ADR 0008). On SQLite one writer at a time gives that. On PostgreSQL, ids come from a
sequence when the row is inserted, and transactions commit in any order; so the writer keeps its
transaction's events aside (`events_at_commit`) and inserts them all just before COMMIT, under a
transaction-level advisory lock that the next inserter waits for until this commit is visible.
The lock is held for one multi-row insert and the commit, not for the whole transaction.
The engine reads it on the driver cursor; the API pages through it (`list_events`) and the live
feeds (the inbox's streams, the web chat's) read what came after their cursor (`events_after`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, select

from frontdesk.domain.records import Event
from frontdesk.store import rows
from frontdesk.store.sql.paging import page_size
from frontdesk.store.tables import events

_AFTER = "id > ? ORDER BY id LIMIT ?"
_LAST = "SELECT max(id) FROM events"
_CURSOR = 'SELECT "position" FROM engine_cursors WHERE name = ?'
_NEW_CURSOR = 'INSERT INTO engine_cursors (name, "position") VALUES (?, 0)'
_MOVE_CURSOR = 'UPDATE engine_cursors SET "position" = ? WHERE name = ?'
_PENDING_KEY = "frontdesk.pending_events"


def append(
    conn: Connection,
    type_: str,
    payload: Mapping[str, Any],
    contact_id: int | None,
    conversation_id: int | None,
    at: dt.datetime,
) -> None:
    values = {
        "type": type_,
        "contact_id": contact_id,
        "conversation_id": conversation_id,
        "payload": payload,
        "created_at": at,
    }
    pending: list[Mapping[str, Any]] | None = conn.info.get(_PENDING_KEY)
    if pending is not None:
        pending.append(values)
        return
    rows.order_events(conn)  # a write outside the writer (a command, a migration): at once, in order
    rows.insert(conn, events, values)


@contextlib.contextmanager
def events_at_commit(conn: Connection) -> Iterator[None]:
    """Within the block (the writer's transaction), `append` keeps events aside; they are inserted,
    in order, when the block ends without an error (then the caller commits at once)."""
    pending: list[Mapping[str, Any]] = []
    conn.info[_PENDING_KEY] = pending
    try:
        yield
        if pending:
            rows.order_events(conn)
            rows.insert_many(conn, events, pending)
    finally:
        conn.info.pop(_PENDING_KEY, None)


def pending_events(conn: Connection) -> int:
    """How many events the current `events_at_commit` block holds (a mark for `drop_events_after`)."""
    return len(conn.info.get(_PENDING_KEY, ()))


def drop_events_after(conn: Connection, mark: int) -> None:
    """Forget the events kept after `mark`: the savepoint that appended them was rolled back."""
    pending = conn.info.get(_PENDING_KEY)
    if pending is not None:
        del pending[mark:]


def after(conn: Connection, position: int, limit: int) -> list[Event]:
    """Up to `limit` events after `position`, oldest first."""
    return [Event(**row) for row in rows.select_all(conn, events, _AFTER, (position, limit))]


def last_id(conn: Connection) -> int:
    """The newest event's id (0 before the first)."""
    return int(rows.scalar(conn, _LAST) or 0)


def cursor(conn: Connection, name: str) -> int:
    """Where the reader `name` stopped (a new reader starts before the first event)."""
    position = rows.scalar(conn, _CURSOR, (name,))
    if position is None:
        rows.execute(conn, _NEW_CURSOR, (name,))
        return 0
    return int(position)


def move_cursor(conn: Connection, name: str, position: int) -> None:
    rows.execute(conn, _MOVE_CURSOR, (position, name))


def list_events(conn: Connection, after: int, limit: int, types: list[str] | None) -> list[dict[str, Any]]:
    query = select(events).where(events.c.id > after).order_by(events.c.id).limit(page_size(limit))
    if types:
        query = query.where(events.c.type.in_(types))
    return [dict(r) for r in conn.execute(query).mappings()]


def events_after(conn: Connection, after: int, limit: int) -> list[dict[str, Any]]:
    """`{id, type, conversation_id, contact_id}` of the events after `after`, oldest first."""
    query = (
        select(events.c.id, events.c.type, events.c.conversation_id, events.c.contact_id)
        .where(events.c.id > after)
        .order_by(events.c.id)
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
