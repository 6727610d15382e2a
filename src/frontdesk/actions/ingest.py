"""Inbound messages: store the message, open a conversation if needed, emit the events — at once.

Idempotent on (channel, provider message id): a provider retry gets the first receipt back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection

from frontdesk.actions.attachments import store_attachments
from frontdesk.actions.contacts import contact_created, create_by_identity, update_contact
from frontdesk.actions.conversations import conversation_opened, ensure_open_conversation, open_new_conversation
from frontdesk.actions.events import emit
from frontdesk.channels.base import InboundItem, Notice
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.attachments import NewAttachment, check_attachments
from frontdesk.domain.conversations import check_message_text
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import SYSTEM, Actor, AuthorKind, Source
from frontdesk.store.database import need_turn, tally
from frontdesk.store.sql import contacts, messages
from frontdesk.store.sql import conversations as conversation_rows

CONTACT = Actor(AuthorKind.CONTACT)


@dataclass(frozen=True)
class InboundMessage:
    channel_id: int
    external_id: str
    provider_message_id: str
    text: str
    contact_name: str | None = None
    contact_fields: dict[str, object] = field(default_factory=dict)
    attachments: tuple[NewAttachment, ...] = ()  # media is fetched later; the message is stored now
    subject: str | None = None  # an e-mail's: kept on the conversation
    references: tuple[str, ...] = ()  # an e-mail's In-Reply-To/References: a reply joins their thread

    @classmethod
    def of(cls, channel_id: int, item: InboundItem) -> InboundMessage:
        """The message a channel adapter parsed, for ingest."""
        return cls(
            channel_id,
            item.external_id,
            item.provider_message_id,
            item.text,
            item.contact_name,
            item.contact_fields,
            item.attachments,
            item.subject,
            item.references,
        )


@dataclass(frozen=True)
class Receipt:
    contact_id: int
    conversation_id: int
    message_id: int
    conversation_opened: bool
    duplicate: bool


def receive_inbound(conn: Connection, inbound: InboundMessage) -> Receipt:
    """Store `inbound`. Written `parallel=True` (`Database.write`), its two common paths run beside
    other processes' writers on PostgreSQL: a known sender's message into their open conversation
    (whose row it locks while it is open) and a new sender's first message (unique indexes decide
    who creates the contact). Every other path asks for the writers' turn (`need_turn`) first."""
    if inbound.text or not inbound.attachments:  # a photo without a caption has no text
        check_message_text(inbound.text, "message.text")
    check_attachments(inbound.attachments, "message.attachments")
    arrival = messages.arrival(conn, inbound.channel_id, inbound.provider_message_id, inbound.external_id)
    if arrival is None:
        raise NotFound("channel", inbound.channel_id)
    if arrival.earlier is not None:  # a provider's retry gets the first receipt back
        return _receipt(arrival.earlier)
    if inbound.references or inbound.contact_fields:  # a thread to find, fields to merge: read, then written
        need_turn(conn)

    threaded = conversation_rows.open_thread_of(conn, inbound.channel_id, list(inbound.references))
    if threaded is not None:  # a reply to a mail we sent joins its open conversation, whoever sends it
        contact_id, created = threaded, False
    elif arrival.contact_id is not None:
        contact_id, created = arrival.contact_id, False
    else:
        times = (now(), now(), now())  # the contact's, the conversation's, the message's: as one by one
        first = None if inbound.contact_fields else _first_message_of_new_contact(conn, inbound, times)
        if first is not None:
            return _received(conn, inbound, arrival, *first, True, times[2])
        contact_id, created = create_by_identity(conn, inbound.channel_id, inbound.external_id, inbound.contact_name)
    if inbound.contact_fields:
        update_contact(conn, contact_id, CONTACT, fields=inbound.contact_fields)
    if inbound.contact_name and not created and threaded is None and arrival.contact_unnamed:
        need_turn(conn)
        _fill_missing_name(conn, contact_id, inbound.contact_name)

    if contact_id == arrival.contact_id and arrival.open_conversation_id is not None:
        conversation_id, opened = arrival.open_conversation_id, False
    else:
        need_turn(conn)
        conversation_id, opened = _conversation_for(conn, inbound, arrival, contact_id, created)
    at = now()
    text, provider_message_id = inbound.text, inbound.provider_message_id
    if opened:  # a conversation opened just now already has this channel and time
        message_id = messages.add_inbound(
            conn, conversation_id, inbound.channel_id, text, provider_message_id, True, at
        )
    else:  # the conversation's row first: it stays locked while open (`messages.add_into_open`)
        found = messages.add_into_open(conn, conversation_id, inbound.channel_id, text, provider_message_id, at)
        if found is None:
            need_turn(conn)  # another process's writer closed (or deleted) it since `arrival` read it open
            raise NotFound("conversation", conversation_id)  # in the turn, nobody writes between the two
        message_id = found
    return _received(conn, inbound, arrival, contact_id, conversation_id, message_id, opened, at)


def _first_message_of_new_contact(
    conn: Connection, inbound: InboundMessage, times: tuple[dt.datetime, dt.datetime, dt.datetime]
) -> tuple[int, int, int] | None:
    """A sender unknown on the channel: contact, identity, conversation and message in one
    statement (`messages.first_of_new_contact`), and their events in the order the separate
    writes emit them: (contact, conversation, message). None, with nothing left written, when
    another process holds the identity or an open conversation already: the writes one by one
    then take the winner's."""
    channel_id, external_id, name = inbound.channel_id, inbound.external_id, inbound.contact_name
    first = messages.first_of_new_contact(
        conn, channel_id, external_id, name, inbound.text, inbound.provider_message_id, times
    )
    if first.conversation_id is None or first.message_id is None:
        need_turn(conn)  # another process's writer holds the identity: it is read in the turn
        contacts.delete(conn, first.contact_id)  # its identity with it, if that was written
        return None
    contact_created(conn, first.contact_id, channel_id, external_id, name)
    conversation_opened(conn, first.contact_id, first.conversation_id, Source.CONTACT, channel_id, CONTACT)
    return first.contact_id, first.conversation_id, first.message_id


def _received(
    conn: Connection,
    inbound: InboundMessage,
    arrival: messages.Arrival,
    contact_id: int,
    conversation_id: int,
    message_id: int,
    opened: bool,
    at: dt.datetime,
) -> Receipt:
    """What follows the message's row: the e-mail's subject, the attachments, the event, the count."""
    if inbound.subject:
        conversation_rows.keep_subject(conn, conversation_id, inbound.subject)
    payload: ev.MessageReceivedPayload = {
        "message_id": message_id,
        "channel_id": inbound.channel_id,
        "text": inbound.text,
    }
    if inbound.attachments:
        payload["attachments"] = store_attachments(conn, message_id, inbound.attachments, at)
    emit(
        conn,
        ev.MESSAGE_RECEIVED,
        payload,
        contact_id=contact_id,
        conversation_id=conversation_id,
    )
    tally(conn, "inbound", arrival.channel_type)
    return Receipt(contact_id, conversation_id, message_id, opened, duplicate=False)


def record_notice(conn: Connection, channel_id: int, notice: Notice) -> int | None:
    """A reaction or a message Frontdesk cannot show, as a system note in the contact's open
    conversation: it opens none and starts no workflow (a 👍 is not a request). None when there is
    no open conversation to put it in (the route logs it), or a provider's retry brought it again."""
    if messages.received(conn, channel_id, notice.provider_message_id) is not None:
        return None
    contact_id = contacts.by_identity(conn, channel_id, notice.external_id)
    conversation_id = None if contact_id is None else conversation_rows.open_id(conn, contact_id)
    if contact_id is None or conversation_id is None:
        return None
    text = notice.text
    message_id = messages.add_notice(conn, conversation_id, channel_id, notice.provider_message_id, text, now())
    emit(
        conn,
        ev.NOTE_ADDED,
        {"message_id": message_id, "author": SYSTEM.as_payload(), "text": text},
        contact_id=contact_id,
        conversation_id=conversation_id,
    )
    return message_id


def _conversation_for(
    conn: Connection, inbound: InboundMessage, arrival: messages.Arrival, contact_id: int, created: bool
) -> tuple[int, bool]:
    """The contact's open conversation, opened if it has none: (id, opened). For the sender
    known on the channel, the arrival read has already looked; a new contact has none."""
    if contact_id == arrival.contact_id and arrival.open_conversation_id is not None:
        return arrival.open_conversation_id, False
    if contact_id == arrival.contact_id or created:
        return open_new_conversation(conn, contact_id, Source.CONTACT, inbound.channel_id, CONTACT)
    return ensure_open_conversation(conn, contact_id, Source.CONTACT, inbound.channel_id, CONTACT)


def _fill_missing_name(conn: Connection, contact_id: int, name: str) -> None:
    """A channel's profile name fills an empty name; it never overwrites one a person set."""
    contact = contacts.get(conn, contact_id)
    if contact is not None and contact.name is None:
        update_contact(conn, contact_id, CONTACT, name=name)


def _receipt(found: messages.Received) -> Receipt:
    return Receipt(found.contact_id, found.conversation_id, found.message_id, found.opened_conversation, duplicate=True)
