"""The event log: appended in the writer's transaction with the change each event describes,
consumed in id order (ids are never reused: AUTOINCREMENT).

Readers move a cursor past the ids they read, so an event must never commit after an event with
a higher id (ADR 0008). On SQLite one writer at a time gives that. On PostgreSQL, ids come from a
sequence when the row is inserted, and transactions commit in any order; so the writer keeps its
transaction's events aside (`events_at_commit`) and inserts them all just before COMMIT, under a
transaction-level advisory lock that the next inserter waits for until this commit is visible.
The lock is held for one multi-row insert and the commit, not for the whole transaction.
Each event carries its contact's partition (domain/partitions.py): the engine reads the partitions
it owns on the driver cursor (`after`) and keeps their cursors in store/sql/partitions.py. The API
pages through the log (`list_events`) and the live feeds (the inbox's streams, the web chat's) read
what came after their cursor (`events_after`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from sqlalchemy import Connection, select

from frontdesk.domain.partitions import PARTITIONS, partition_of
from frontdesk.domain.records import Event
from frontdesk.store import rows
from frontdesk.store.sql.paging import page_size
from frontdesk.store.tables import events

_COLUMNS = ("id", "type", "contact_id", "conversation_id", "payload", "created_at")
_SELECT = f'SELECT {", ".join(_COLUMNS)}, "partition" FROM events WHERE id > ?'
_AFTER = f"{_SELECT} ORDER BY id LIMIT ?"
_AFTER_IN = f'{_SELECT} AND "partition" IN ({{}}) ORDER BY id LIMIT ?'
_LAST = "SELECT max(id) FROM events"
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
        "partition": partition_of(contact_id),
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


def after(conn: Connection, position: int, partitions: Collection[int], limit: int) -> list[tuple[int, Event]]:
    """Up to `limit` events of `partitions` after `position`, oldest first, each with its partition."""
    if len(partitions) == PARTITIONS:  # the one worker of a database reads the log as it comes
        found = rows.execute(conn, _AFTER, (position, limit))
    else:
        sql = _AFTER_IN.format(", ".join("?" * len(partitions)))
        found = rows.execute(conn, sql, (position, *partitions, limit))
    codec = rows.dialect(conn).codec(events)
    return [(row[-1], Event(**codec.decode(row[:-1], _COLUMNS))) for row in found]


def last_id(conn: Connection) -> int:
    """The newest event's id (0 before the first)."""
    return int(rows.scalar(conn, _LAST) or 0)


_listed = [column for column in events.c if column.name != "partition"]  # the engine's business only


def list_events(conn: Connection, after: int, limit: int, types: list[str] | None) -> list[dict[str, Any]]:
    query = select(*_listed).where(events.c.id > after).order_by(events.c.id).limit(page_size(limit))
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
