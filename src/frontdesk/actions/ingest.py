"""Inbound messages: store the message, open a conversation if needed, emit the events — at once.

Idempotent on (channel, provider message id): a provider retry gets the first receipt back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, insert, select, update

from frontdesk.actions.contacts import find_or_create_by_identity, update_contact
from frontdesk.actions.conversations import ensure_open_conversation
from frontdesk.actions.events import emit
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.conversations import check_message_text
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import Actor, AuthorKind, DeliveryStatus, Direction, Source
from frontdesk.store.tables import channels, contacts, conversations, messages

CONTACT = Actor(AuthorKind.CONTACT)


@dataclass(frozen=True)
class InboundMessage:
    channel_id: int
    external_id: str
    provider_message_id: str
    text: str
    contact_name: str | None = None
    contact_fields: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Receipt:
    contact_id: int
    conversation_id: int
    message_id: int
    conversation_opened: bool
    duplicate: bool


def receive_inbound(conn: Connection, inbound: InboundMessage) -> Receipt:
    check_message_text(inbound.text, "message.text")
    earlier = _earlier_receipt(conn, inbound.channel_id, inbound.provider_message_id)
    if earlier is not None:
        return earlier
    if conn.execute(select(channels.c.id).where(channels.c.id == inbound.channel_id)).first() is None:
        raise NotFound("channel", inbound.channel_id)

    contact_id, created = find_or_create_by_identity(
        conn, inbound.channel_id, inbound.external_id, inbound.contact_name
    )
    if inbound.contact_fields:
        update_contact(conn, contact_id, CONTACT, fields=inbound.contact_fields)
    if inbound.contact_name and not created:
        _fill_missing_name(conn, contact_id, inbound.contact_name)

    conversation_id, opened = ensure_open_conversation(conn, contact_id, Source.CONTACT, inbound.channel_id, CONTACT)
    at = now()
    message_id = conn.execute(
        insert(messages).values(
            conversation_id=conversation_id,
            channel_id=inbound.channel_id,
            direction=Direction.INBOUND,
            author_kind=AuthorKind.CONTACT,
            text=inbound.text,
            provider_message_id=inbound.provider_message_id,
            opened_conversation=opened,
            delivery_status=DeliveryStatus.RECEIVED,
            created_at=at,
        )
    ).inserted_primary_key[0]
    conn.execute(
        update(conversations)
        .where(conversations.c.id == conversation_id)
        .values(last_message_at=at, channel_id=inbound.channel_id)
    )
    emit(
        conn,
        ev.MESSAGE_RECEIVED,
        {"message_id": message_id, "channel_id": inbound.channel_id, "text": inbound.text},
        contact_id=contact_id,
        conversation_id=conversation_id,
    )
    return Receipt(contact_id, conversation_id, message_id, opened, duplicate=False)


def _fill_missing_name(conn: Connection, contact_id: int, name: str) -> None:
    """A channel's profile name fills an empty name; it never overwrites one a person set."""
    current = conn.execute(select(contacts.c.name).where(contacts.c.id == contact_id)).scalar()
    if current is None:
        update_contact(conn, contact_id, CONTACT, name=name)


def _earlier_receipt(conn: Connection, channel_id: int, provider_message_id: str) -> Receipt | None:
    query = (
        select(
            messages.c.id,
            messages.c.conversation_id,
            messages.c.opened_conversation,
            conversations.c.contact_id,
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .where(messages.c.channel_id == channel_id, messages.c.provider_message_id == provider_message_id)
    )
    row = conn.execute(query).first()
    if row is None:
        return None
    return Receipt(row.contact_id, row.conversation_id, row.id, row.opened_conversation, duplicate=True)
