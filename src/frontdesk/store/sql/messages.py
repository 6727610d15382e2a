"""Messages as ingest and the engine read and write them."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any, NamedTuple

from sqlalchemy import Connection

from frontdesk.domain.model import AuthorKind, DeliveryStatus, Direction, Source
from frontdesk.store import rows
from frontdesk.store.dialects.base import quote
from frontdesk.store.sql.contacts import new_contact
from frontdesk.store.sql.conversations import message_received, new_open
from frontdesk.store.tables import contact_identities, contacts, conversations, messages

_BY_PROVIDER_ID = (
    "SELECT m.id, m.conversation_id, m.opened_conversation, c.contact_id FROM messages m"
    " JOIN conversations c ON c.id = m.conversation_id WHERE m.channel_id = ? AND m.provider_message_id = ?"
)
# Ingest's first questions in one statement: the channel (its type); when a provider retries, the
# message it delivered before; the contact known on the channel by this sender id, and its open
# conversation. `o.status = 'open'` as a literal: the partial unique index answers it. The open
# conversation is a correlated subquery, not a LEFT JOIN: planned on empty tables (PostgreSQL's
# generic plan of a new database), the join scanned every open conversation for each message; the
# subquery is planned as a lookup of the contact's row in that index (tests/store/test_plans.py).
_ARRIVAL = (
    "SELECT ch.type, m.id, m.conversation_id, m.opened_conversation, c.contact_id, i.contact_id,"
    " (SELECT o.id FROM conversations o WHERE o.contact_id = i.contact_id AND o.status = 'open'),"
    " k.name IS NULL"
    " FROM channels ch"
    " LEFT JOIN messages m ON m.channel_id = ch.id AND m.provider_message_id = ?"
    " LEFT JOIN conversations c ON c.id = m.conversation_id"
    " LEFT JOIN contact_identities i ON i.channel_id = ch.id AND i.external_id = ?"
    " LEFT JOIN contacts k ON k.id = i.contact_id"
    " WHERE ch.id = ?"
)
# `direction` as a literal: the partial index on inbound messages applies only when the planner sees it.
_FIRST_INBOUND = (
    f"SELECT id, text FROM messages WHERE conversation_id = ? AND direction = '{Direction.INBOUND}' ORDER BY id LIMIT 1"
)

# The contact's latest message on a channel: the newest of each of their conversations (on its
# inbound index), then the newest of those. Correlated subqueries, not a join, for the reason the
# arrival read gives: planned on empty tables, the join read every message (tests/store/test_plans.py).
_LAST_INBOUND = (
    "SELECT m.created_at FROM messages m WHERE m.id = (SELECT max((SELECT max(i.id) FROM messages i"
    f" WHERE i.conversation_id = v.id AND i.direction = '{Direction.INBOUND}' AND i.channel_id = ?))"
    " FROM conversations v WHERE v.contact_id = ?)"
)


class Received(NamedTuple):
    """An inbound message already stored, and where it went."""

    message_id: int
    conversation_id: int
    opened_conversation: bool
    contact_id: int


def received(conn: Connection, channel_id: int, provider_message_id: str) -> Received | None:
    """The message a channel already delivered under this provider id (a provider's retry)."""
    row = rows.execute(conn, _BY_PROVIDER_ID, (channel_id, provider_message_id)).fetchone()
    if row is None:
        return None
    message_id, conversation_id, opened, contact_id = row
    return Received(message_id, conversation_id, bool(rows.dialect(conn).decode_bool(opened)), contact_id)


class Arrival(NamedTuple):
    """What ingest learns before it writes (`arrival`)."""

    channel_type: str
    earlier: Received | None  # the message a provider's retry delivered before
    contact_id: int | None  # the contact known on the channel by the sender's id
    open_conversation_id: int | None  # that contact's open conversation
    contact_unnamed: bool  # that contact has no name yet


def arrival(conn: Connection, channel_id: int, provider_message_id: str, external_id: str) -> Arrival | None:
    """None when there is no such channel."""
    row = rows.execute(conn, _ARRIVAL, (provider_message_id, external_id, channel_id)).fetchone()
    if row is None:
        return None
    channel_type, message_id, conversation_id, opened, earlier_contact_id, contact_id, open_id, unnamed = row
    earlier = None
    if message_id is not None:
        decoded = bool(rows.dialect(conn).decode_bool(opened))
        earlier = Received(message_id, conversation_id, decoded, earlier_contact_id)
    return Arrival(channel_type, earlier, contact_id, open_id, contact_id is not None and bool(unnamed))


def add_inbound(
    conn: Connection,
    conversation_id: int,
    channel_id: int,
    text: str,
    provider_message_id: str,
    opened_conversation: bool,
    at: dt.datetime,
) -> int:
    values = {
        "conversation_id": conversation_id,
        **_new_inbound(channel_id, text, provider_message_id, opened_conversation, at),
    }
    return rows.insert(conn, messages, values)


def add_into_open(
    conn: Connection, conversation_id: int, channel_id: int, text: str, provider_message_id: str, at: dt.datetime
) -> int | None:
    """A known sender's message into their open conversation, which takes its time and channel;
    None, with nothing written, when the conversation is not open (any more). The conversation's
    UPDATE comes first and holds the row to the commit (`conversations.message_received`). On
    PostgreSQL one statement: a `WITH` of the UPDATE, and the INSERT selecting from it."""
    dialect = rows.dialect(conn)
    if not dialect.inserts_in_with:
        if not message_received(conn, conversation_id, channel_id, at):
            return None
        return add_inbound(conn, conversation_id, channel_id, text, provider_message_id, False, at)
    received = {"last_message_at": at, "channel_id": channel_id}
    values = _new_inbound(channel_id, text, provider_message_id, False, at)
    params = [
        *dialect.codec(conversations).encode(received),
        conversation_id,
        *dialect.codec(messages).encode(values),
    ]
    found = rows.execute(conn, _into_open_sql(tuple(received), tuple(values)), params).fetchone()
    rows.forget(conn, ("conversation", conversation_id))
    return None if found is None else int(found[0])


@cache
def _into_open_sql(changed: tuple[str, ...], keys: tuple[str, ...]) -> str:
    """The conversation's UPDATE and the message's INSERT, their columns named once, by the values'."""
    columns = ", ".join(quote(k) for k in ("conversation_id", *keys))
    return (
        f"WITH u AS (UPDATE conversations SET {', '.join(f'{quote(k)} = ?' for k in changed)}"
        " WHERE id = ? AND status = 'open' RETURNING id)"
        f" INSERT INTO messages ({columns}) SELECT u.id, {', '.join('?' * len(keys))} FROM u RETURNING id"
    )


def _new_inbound(
    channel_id: int, text: str, provider_message_id: str, opened_conversation: bool, at: dt.datetime
) -> dict[str, Any]:
    return {
        "channel_id": channel_id,
        "direction": Direction.INBOUND,
        "author_kind": AuthorKind.CONTACT,
        "text": text,
        "provider_message_id": provider_message_id,
        "opened_conversation": opened_conversation,
        "delivery_status": DeliveryStatus.RECEIVED,
        "created_at": at,
    }


_CONTACT = {"contact_id": 0}  # the column that takes the id of the chain's first row, the contact


class FirstMessage(NamedTuple):
    """What `first_of_new_contact` wrote: the contact, and its conversation and message, unless
    the rows before them were another process's already (None)."""

    contact_id: int
    conversation_id: int | None
    message_id: int | None


def first_of_new_contact(
    conn: Connection,
    channel_id: int,
    external_id: str,
    name: str | None,
    text: str,
    provider_message_id: str,
    times: tuple[dt.datetime, dt.datetime, dt.datetime],
) -> FirstMessage:
    """A sender unknown on the channel (`arrival`): their contact, its identity, its open
    conversation and the message, in one statement on PostgreSQL (`rows.insert_chain`) instead of
    four dependent round trips in the writers' turn. The identity (another process's contact for
    this sender) and the conversation (the contact's open one: the partial unique index) are
    inserted unless their twin is there; then nothing after them is. `times`: the contact's,
    the conversation's and the message's, as the separate inserts took them."""
    contact_at, opened_at, at = times
    found = rows.insert_chain(
        conn,
        [
            rows.Link(contacts, new_contact(name, contact_at)),
            rows.Link(contact_identities, {"channel_id": channel_id, "external_id": external_id}, _CONTACT, True),
            rows.Link(conversations, new_open(channel_id, Source.CONTACT, opened_at), _CONTACT, True),
            rows.Link(messages, _new_inbound(channel_id, text, provider_message_id, True, at), {"conversation_id": 2}),
        ],
    )
    contact_id, _, conversation_id, message_id = found
    assert contact_id is not None  # the first insert is unconditional
    return FirstMessage(contact_id, conversation_id, message_id)


def add_notice(
    conn: Connection, conversation_id: int, channel_id: int, provider_message_id: str, text: str, at: dt.datetime
) -> int:
    """A system note for something the contact did on a channel (a reaction): under the provider's
    id, so a provider's retry stores it once, and never delivered."""
    values = {
        "conversation_id": conversation_id,
        "channel_id": channel_id,
        "direction": Direction.OUTBOUND,
        "author_kind": AuthorKind.SYSTEM,
        "text": text,
        "provider_message_id": provider_message_id,
        "opened_conversation": False,
        "delivery_status": DeliveryStatus.STORED,
        "private": True,
        "created_at": at,
    }
    return rows.insert(conn, messages, values)


def first_inbound(conn: Connection, conversation_id: int) -> tuple[int, str] | None:
    """The contact's first message in the conversation: (id, text)."""
    row = rows.execute(conn, _FIRST_INBOUND, (conversation_id,)).fetchone()
    return None if row is None else (row[0], row[1])


def last_inbound_at(conn: Connection, contact_id: int, channel_id: int) -> dt.datetime | None:
    """When the contact last wrote on the channel (None: never)."""
    row = rows.execute(conn, _LAST_INBOUND, (channel_id, contact_id)).fetchone()
    return None if row is None else rows.dialect(conn).decode_time(row[0])
