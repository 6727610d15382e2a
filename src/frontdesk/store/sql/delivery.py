"""Outbound delivery's statements: which messages are due, their lease, and how each attempt ended.

A claim leases a message (its `next_attempt_at` pushed past the request's timeout, its attempt
counted) in the writer before it is sent; the outcome is written only while it is still pending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, NamedTuple

import msgspec
from sqlalchemy import Connection, and_, func, select, update

from frontdesk.domain.model import AuthorKind, ChannelType, DeliveryStatus, Direction
from frontdesk.domain.records import Attachment, Channel, Outbound
from frontdesk.store.sql import attachments
from frontdesk.store.sql import messages as message_rows
from frontdesk.store.tables import PENDING, channels, contact_identities, conversations, messages

_DUE = select(
    messages.c.id,
    messages.c.channel_id,
    messages.c.conversation_id,
    conversations.c.contact_id,
    contact_identities.c.external_id,
    messages.c.text,
    messages.c.quick_replies,
    messages.c.author_kind,
    messages.c.author_agent_id,
    messages.c.created_at,
    messages.c.delivery_attempts,
    messages.c.template,
    *(column.label(f"channel__{column.name}") for column in channels.c),
)


def due(conn: Connection, at: dt.datetime, skip: Collection[int], limit: int) -> list[tuple[Outbound, Channel]]:
    """The pending messages due at `at`, oldest first, outside the channels in `skip`; each with
    the attempt a claim would make and the channel it goes out on."""
    query = (
        _DUE.join(conversations, conversations.c.id == messages.c.conversation_id)
        .join(channels, channels.c.id == messages.c.channel_id)
        .outerjoin(
            contact_identities,
            and_(
                contact_identities.c.contact_id == conversations.c.contact_id,
                contact_identities.c.channel_id == messages.c.channel_id,
            ),
        )
        .where(
            messages.c.delivery_status == PENDING,
            messages.c.next_attempt_at <= at,
            messages.c.channel_id.not_in(skip),
        )
        .order_by(messages.c.next_attempt_at, messages.c.id)
        .limit(limit)
    )
    found = list(conn.execute(query).mappings())
    carried = attachments.of_messages(conn, [row["id"] for row in found])  # one query for the whole batch
    threads = {row["id"]: _thread(conn, row) for row in found if row["channel__type"] in _THREADED}
    due = [_due(row, carried.get(row["id"], []), threads.get(row["id"])) for row in found]
    return [(_with_last_inbound(conn, m), c) if c.type in _WINDOWED else (m, c) for m, c in due]


# Channels whose messages name their thread (e-mail: a subject, In-Reply-To and References).
_THREADED = frozenset({ChannelType.EMAIL})
# Channels whose send says how long ago the contact wrote (Messenger's and Instagram's HUMAN_AGENT tag).
_WINDOWED = frozenset({ChannelType.MESSENGER, ChannelType.INSTAGRAM})


def _with_last_inbound(conn: Connection, message: Outbound) -> Outbound:
    last = message_rows.last_inbound_at(conn, message.contact_id, message.channel_id)
    return msgspec.structs.replace(message, last_inbound_at=last)


def _thread(conn: Connection, row: Any) -> tuple[str | None, list[str]]:
    """The conversation's subject and the ids of its earlier messages on the channel, oldest first."""
    subject = conn.execute(select(conversations.c.subject).where(conversations.c.id == row["conversation_id"]))
    earlier = (
        select(messages.c.provider_message_id)
        .where(
            messages.c.conversation_id == row["conversation_id"],
            messages.c.channel_id == row["channel_id"],
            messages.c.id < row["id"],
            messages.c.provider_message_id.is_not(None),
            messages.c.author_kind != AuthorKind.SYSTEM,
        )
        .order_by(messages.c.id)
    )
    return subject.scalar(), [str(found) for found in conn.execute(earlier).scalars()]


def _due(row: Any, carried: list[Attachment], thread: tuple[str | None, list[str]] | None) -> tuple[Outbound, Channel]:
    message = Outbound(
        id=row["id"],
        channel_id=row["channel_id"],
        conversation_id=row["conversation_id"],
        contact_id=row["contact_id"],
        external_id=row["external_id"],
        text=row["text"],
        quick_replies=row["quick_replies"] or [],
        author_kind=row["author_kind"],
        author_agent_id=row["author_agent_id"],
        created_at=row["created_at"],
        attempt=row["delivery_attempts"] + 1,
        template=row["template"],
        attachments=carried,
        subject=thread[0] if thread else None,
        references=thread[1] if thread else [],
    )
    channel = Channel(**{column.name: row[f"channel__{column.name}"] for column in channels.c})
    return message, channel


def lease(conn: Connection, message_id: int, until: dt.datetime, attempt: int) -> None:
    """Count the attempt and keep other claims off the message until `until`."""
    values = {"next_attempt_at": until, "delivery_attempts": attempt}
    conn.execute(update(messages).where(messages.c.id == message_id).values(**values))


def mark_sent(conn: Connection, message_id: int, provider_message_id: str | None = None) -> bool:
    """False when the message was no longer pending. The provider's id lets its later status
    reports (delivered, read) find the message."""
    values: dict[str, Any] = {"delivery_status": DeliveryStatus.SENT, "next_attempt_at": None, "delivery_error": None}
    if provider_message_id:
        values["provider_message_id"] = provider_message_id
    return bool(conn.execute(update(messages).where(_pending(message_id)).values(**values)).rowcount)


class Sent(NamedTuple):
    """An outbound message a provider reports on: where it is, and its delivery so far."""

    id: int
    conversation_id: int
    contact_id: int
    status: str
    attempts: int


def sent_by_provider_id(conn: Connection, channel_id: int, provider_message_id: str) -> Sent | None:
    """The outbound message the provider knows by this id on this channel."""
    query = (
        select(
            messages.c.id,
            messages.c.conversation_id,
            conversations.c.contact_id,
            messages.c.delivery_status,
            messages.c.delivery_attempts,
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(
            messages.c.channel_id == channel_id,
            messages.c.provider_message_id == provider_message_id,
            messages.c.direction == Direction.OUTBOUND,
        )
    )
    row = conn.execute(query).first()
    return None if row is None else Sent(*row)


def set_status(conn: Connection, message_id: int, status: DeliveryStatus, error: str | None) -> None:
    values = {"delivery_status": status, "next_attempt_at": None, "delivery_error": error}
    conn.execute(update(messages).where(messages.c.id == message_id).values(**values))


def mark_failed(conn: Connection, message_id: int, error: str) -> bool:
    """For good: never tried again. False when the message was no longer pending."""
    return _settle(conn, message_id, DeliveryStatus.FAILED, error)


def retry_at(conn: Connection, message_id: int, at: dt.datetime, error: str) -> None:
    values = {"next_attempt_at": at, "delivery_error": error}
    conn.execute(update(messages).where(_pending(message_id)).values(**values))


def next_attempt(conn: Connection, skip: Collection[int]) -> dt.datetime | None:
    """When the next pending message falls due, outside the channels in `skip`."""
    pending = and_(messages.c.delivery_status == PENDING, messages.c.channel_id.not_in(skip))
    found: dt.datetime | None = conn.execute(select(func.min(messages.c.next_attempt_at)).where(pending)).scalar()
    return found


def _settle(conn: Connection, message_id: int, status: DeliveryStatus, error: str | None) -> bool:
    values = {"delivery_status": status, "next_attempt_at": None, "delivery_error": error}
    return bool(conn.execute(update(messages).where(_pending(message_id)).values(**values)).rowcount)


def _pending(message_id: int) -> Any:
    return and_(messages.c.id == message_id, messages.c.delivery_status == DeliveryStatus.PENDING)


def sent_up_to(conn: Connection, channel_id: int, external_id: str, until: dt.datetime) -> list[str]:
    """The provider ids of the messages sent (not yet read) to the contact known by `external_id`
    on the channel up to `until`, oldest first: what a receipt by watermark covers."""
    query = (
        select(messages.c.provider_message_id)
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .join(
            contact_identities,
            and_(
                contact_identities.c.contact_id == conversations.c.contact_id,
                contact_identities.c.channel_id == messages.c.channel_id,
            ),
        )
        .where(
            messages.c.channel_id == channel_id,
            contact_identities.c.external_id == external_id,
            messages.c.direction == Direction.OUTBOUND,
            messages.c.delivery_status.in_((DeliveryStatus.SENT, DeliveryStatus.DELIVERED)),
            messages.c.provider_message_id.is_not(None),
            messages.c.created_at <= until,
        )
        .order_by(messages.c.id)
    )
    return [str(found) for found in conn.execute(query).scalars()]
