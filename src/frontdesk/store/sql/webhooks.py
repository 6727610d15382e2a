"""Outgoing webhooks' statements: subscriptions (each a cursor on the event log with its retry
state), the claim that leases the ones due, the events each is to receive, and the delivery log.

Cold paths and a claim per pass: SQLAlchemy Core, whose `Encrypted` type opens the sealed secret.
What runs per event, a turn's events and its delivery log, goes on the driver's cursor (ADR 0003):
through Core they were a third of the sender's CPU with nothing else to do. The claim's SELECT
passes over rows another process is claiming (SKIP LOCKED on PostgreSQL; SQLite has one writer at a
time), and the lease keeps one sender on a subscription.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, or_, select, true, update

from frontdesk.domain.records import Event
from frontdesk.domain.webhooks import Due
from frontdesk.store import rows
from frontdesk.store.tables import events, webhook_deliveries, webhook_subscriptions

_subs = webhook_subscriptions
_SHOWN = [column for column in _subs.c if column.name not in ("secret", "lease_until", "head_since")]
_DELIVERY = [column for column in webhook_deliveries.c if column.name != "subscription_id"]
_EVENT_COLUMNS = ("id", "type", "contact_id", "conversation_id", "payload", "created_at")
_NEXT = (
    f"SELECT {', '.join(_EVENT_COLUMNS)} FROM events WHERE id > ? AND id <= ? AND type IN ({{}}) ORDER BY id LIMIT ?"
)
_TRIM = (
    "DELETE FROM webhook_deliveries WHERE subscription_id = ? AND id < (SELECT id FROM webhook_deliveries"
    " WHERE subscription_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)"
)


def insert_subscription(conn: Connection, values: Mapping[str, Any]) -> int:
    return int(conn.execute(insert(_subs).values(**values).returning(_subs.c.id)).scalar_one())


def subscription(conn: Connection, subscription_id: int) -> dict[str, Any] | None:
    """A subscription as the API shows it: never its secret."""
    row = conn.execute(select(*_SHOWN).where(_subs.c.id == subscription_id)).mappings().first()
    return None if row is None else dict(row)


def list_subscriptions(conn: Connection) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(select(*_SHOWN).order_by(_subs.c.id)).mappings()]


def disabled_subscriptions(conn: Connection) -> list[dict[str, Any]]:
    """Those that failures switched off (for the admin overview)."""
    query = select(*_SHOWN).where(_subs.c.disabled_at.is_not(None), _subs.c.enabled.is_(False))
    return [dict(row) for row in conn.execute(query.order_by(_subs.c.id)).mappings()]


def update_subscription(conn: Connection, subscription_id: int, values: Mapping[str, Any]) -> bool:
    """False when there is no such subscription."""
    query = update(_subs).where(_subs.c.id == subscription_id).values(**values)
    return bool(conn.execute(query).rowcount)


def delete_subscription(conn: Connection, subscription_id: int) -> bool:
    return bool(conn.execute(delete(_subs).where(_subs.c.id == subscription_id)).rowcount)


def last_event_id(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())


def _behind(horizon: int, at: dt.datetime) -> Any:
    """Enabled, with events after its cursor, and no live lease."""
    unleased = or_(_subs.c.lease_until.is_(None), _subs.c.lease_until < at)
    return and_(_subs.c.enabled.is_(True), _subs.c.position < horizon, unleased)


def due(
    conn: Connection, at: dt.datetime, horizon: int, skip: Collection[int], limit: int, only: int | None = None
) -> list[Due]:
    """Up to `limit` subscriptions due at `at` with events up to `horizon` to go through, outside
    `skip` (and only subscription `only`, when given)."""
    query = (
        select(
            _subs.c.id,
            _subs.c.url,
            _subs.c.secret,
            _subs.c.event_types,
            _subs.c.position,
            _subs.c.attempt,
            _subs.c.head_since,
            _subs.c.failing_since,
        )
        .where(_behind(horizon, at), _subs.c.next_attempt_at <= at, _subs.c.id.not_in(skip))
        .where(true() if only is None else _subs.c.id == only)
        .order_by(_subs.c.next_attempt_at, _subs.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [Due(**row) for row in conn.execute(query).mappings()]


def next_due(conn: Connection, at: dt.datetime, skip: Collection[int]) -> dt.datetime | None:
    """When the next subscription with events to go through falls due (its lease ended), outside `skip`."""
    query = select(_subs.c.next_attempt_at, _subs.c.lease_until).where(
        _subs.c.enabled.is_(True), _subs.c.position < last_event_id(conn), _subs.c.id.not_in(skip)
    )
    found = [max(due_at, leased or due_at) for due_at, leased in conn.execute(query)]
    return min(found, default=None)


def next_events(conn: Connection, position: int, horizon: int, types: Sequence[str], limit: int) -> list[Event]:
    """The events of `types` after `position` up to `horizon`, oldest first."""
    if not types:
        return []
    found = rows.execute(conn, _NEXT.format(", ".join("?" * len(types))), (position, horizon, *types, limit))
    codec = rows.dialect(conn).codec(events)
    return [Event(**codec.decode(row, _EVENT_COLUMNS)) for row in found]


def settle(conn: Connection, subscription_id: int, position: int, values: Mapping[str, Any]) -> bool:
    """Write a claim's outcome unless the cursor moved meanwhile (a replay, a deletion): False then."""
    where = and_(_subs.c.id == subscription_id, _subs.c.position == position)
    return bool(conn.execute(update(_subs).where(where).values(**values)).rowcount)


def exists(conn: Connection, subscription_id: int) -> bool:
    return conn.execute(select(_subs.c.id).where(_subs.c.id == subscription_id)).first() is not None


def log_attempts(conn: Connection, subscription_id: int, attempts: Sequence[Mapping[str, Any]], keep: int) -> None:
    """Append to the delivery log and drop what is older than its newest `keep` rows."""
    if attempts:
        rows.insert_many(conn, webhook_deliveries, [{"subscription_id": subscription_id, **a} for a in attempts])
    rows.execute(conn, _TRIM, (subscription_id, subscription_id, keep - 1))


def deliveries(conn: Connection, subscription_id: int, limit: int) -> list[dict[str, Any]]:
    """The newest attempts first."""
    query = (
        select(*_DELIVERY)
        .where(webhook_deliveries.c.subscription_id == subscription_id)
        .order_by(webhook_deliveries.c.id.desc())
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(query).mappings()]
