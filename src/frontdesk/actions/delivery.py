"""Outbound delivery's writes: claiming due messages, and recording how each attempt ended (with
its event), so a message is never in flight twice and its status changes in one place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection

from sqlalchemy import Connection

from frontdesk.actions.events import emit
from frontdesk.channels.base import SendResult, Verdict
from frontdesk.domain import events as ev
from frontdesk.domain.model import DeliveryStatus
from frontdesk.domain.records import Channel, Outbound
from frontdesk.store.sql import delivery


def claim_due(
    conn: Connection,
    at: dt.datetime,
    lease_seconds: float,
    limit: int,
    skip: Collection[int],
    take: Callable[[int], bool],
) -> list[tuple[Outbound, Channel]]:
    """Lease the due messages that `take` makes room for (a channel at its bound is skipped, its
    messages left for a later claim), oldest first."""
    claimed = [(m, c) for m, c in delivery.due(conn, at, skip, limit) if take(m.channel_id)]
    lease_end = at + dt.timedelta(seconds=lease_seconds)
    for message, _ in claimed:
        delivery.lease(conn, message.id, lease_end, message.attempt)
    return claimed


def record_attempt(
    conn: Connection, message: Outbound, result: SendResult, at: dt.datetime, max_attempts: int, backoff: float
) -> None:
    """Sent, failed for good (the adapter said so, or the attempts ran out), or tried again after
    an exponential backoff. The event is emitted only for a status the message did not have."""
    error = result.error or "the channel refused the message"
    if result.verdict is Verdict.SENT:
        status, changed = DeliveryStatus.SENT, delivery.mark_sent(conn, message.id)
    elif result.verdict is Verdict.FAILED or message.attempt >= max_attempts:
        status, changed = DeliveryStatus.FAILED, delivery.mark_failed(conn, message.id, error)
    else:
        delivery.retry_at(conn, message.id, at + dt.timedelta(seconds=backoff * 2 ** (message.attempt - 1)), error)
        return
    if changed:
        emit(
            conn,
            ev.MESSAGE_DELIVERY_UPDATED,
            {"message_id": message.id, "status": str(status), "attempts": message.attempt, "error": result.error},
            contact_id=message.contact_id,
            conversation_id=message.conversation_id,
        )
