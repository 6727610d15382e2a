"""Outbound delivery's writes: claiming due messages, and recording how each attempt ended (with
its event), so a message is never in flight twice and its status changes in one place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection

from sqlalchemy import Connection

from frontdesk.actions.events import emit
from frontdesk.channels.base import SendResult, StatusUpdate, StatusUpTo, Verdict
from frontdesk.domain import events as ev
from frontdesk.domain.model import DeliveryStatus
from frontdesk.domain.records import Channel, Outbound
from frontdesk.store.database import tally
from frontdesk.store.sql import delivery

# A provider's Retry-After is honoured up to this: a broken or hostile answer cannot park a message for days.
MAX_RETRY_AFTER_SECONDS = 3600.0


def claim_due(
    conn: Connection,
    at: dt.datetime,
    lease_seconds: float,
    limit: int,
    skip: Collection[int],
    take: Callable[[int], bool],
) -> list[tuple[Outbound, Channel]]:
    """Lease the due messages that `take` makes room for (a channel at its bound is skipped, its
    messages left for a later claim), oldest first. A message with attachments is leased longer:
    each may take an upload and a send of its own."""
    claimed = [(m, c) for m, c in delivery.due(conn, at, skip, limit) if take(m.channel_id)]
    for message, _ in claimed:
        lease_end = at + dt.timedelta(seconds=lease_seconds * (1 + len(message.attachments)))
        delivery.lease(conn, message.id, lease_end, message.attempt)
    return claimed


def record_attempt(
    conn: Connection, message: Outbound, result: SendResult, at: dt.datetime, max_attempts: int, backoff: float
) -> None:
    """Sent, failed for good (the adapter said so, or the attempts ran out), or tried again after
    the delay the provider asked for (Retry-After, capped) or else an exponential backoff. The
    event is emitted only for a status the message did not have."""
    error = result.error or "the channel refused the message"
    if result.verdict is Verdict.SENT:
        status, changed = DeliveryStatus.SENT, delivery.mark_sent(conn, message.id, result.provider_message_id)
    elif result.verdict is Verdict.FAILED or message.attempt >= max_attempts:
        status, changed = DeliveryStatus.FAILED, delivery.mark_failed(conn, message.id, error)
    else:
        delivery.retry_at(conn, message.id, at + dt.timedelta(seconds=_retry_delay(result, message, backoff)), error)
        tally(conn, "delivery", "retry")
        return
    tally(conn, "delivery", str(status))
    if changed:
        emit(
            conn,
            ev.MESSAGE_DELIVERY_UPDATED,
            {"message_id": message.id, "status": str(status), "attempts": message.attempt, "error": result.error},
            contact_id=message.contact_id,
            conversation_id=message.conversation_id,
        )


def _retry_delay(result: SendResult, message: Outbound, backoff: float) -> float:
    """Seconds until the next attempt: the provider's own Retry-After when it gave one."""
    if result.retry_after is not None and result.retry_after > 0:
        return min(result.retry_after, MAX_RETRY_AFTER_SECONDS)
    return float(backoff * 2 ** (message.attempt - 1))


# How far a message got: a provider's report never moves it back (a late `sent` after `read`).
_PROGRESS = {DeliveryStatus.SENT: 1, DeliveryStatus.DELIVERED: 2, DeliveryStatus.READ: 3}


def record_status(conn: Connection, channel_id: int, update: StatusUpdate) -> bool:
    """Apply a provider's status report to the outbound message it names, forwards only
    (sent → delivered → read; failed, with its reason, unless already read). False when no
    message has that id on the channel, or the report changes nothing."""
    found = delivery.sent_by_provider_id(conn, channel_id, update.provider_message_id)
    if found is None or not _moves_forward(DeliveryStatus(found.status), update.status):
        return False
    delivery.set_status(conn, found.id, update.status, update.error)
    emit(
        conn,
        ev.MESSAGE_DELIVERY_UPDATED,
        {"message_id": found.id, "status": str(update.status), "attempts": found.attempts, "error": update.error},
        contact_id=found.contact_id,
        conversation_id=found.conversation_id,
    )
    return True


def record_status_up_to(conn: Connection, channel_id: int, receipt: StatusUpTo) -> int:
    """Apply a receipt by time (Messenger's watermark) to every message it covers; how many moved."""
    covered = delivery.sent_up_to(conn, channel_id, receipt.external_id, receipt.until)
    return sum(record_status(conn, channel_id, StatusUpdate(mid, receipt.status)) for mid in covered)


def _moves_forward(current: DeliveryStatus, reported: DeliveryStatus) -> bool:
    if reported is DeliveryStatus.FAILED:
        return current in (DeliveryStatus.SENT, DeliveryStatus.DELIVERED)
    if current not in _PROGRESS or reported not in _PROGRESS:
        return False
    return _PROGRESS[reported] > _PROGRESS[current]
