"""A new contact's first message: its contact, identity, conversation and message written in one
statement on PostgreSQL (`messages.first_of_new_contact`), read back as the writes one by one
left them, with their events in the same order; and a known sender's next message, into their open
conversation, in one statement after the arrival read too."""

from __future__ import annotations

import datetime as dt

from bench.cpu import set_up

from frontdesk.actions import ingest
from frontdesk.actions.contacts import create_by_identity
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.store.database import Database
from tests.databases import ON_POSTGRESQL
from tests.factories import query
from tests.statements import Statements

CONTACTS = 10


def _inbound(index: int) -> InboundMessage:
    return InboundMessage(1, f"new-{index}", f"new-m{index}", f"Hello {index}", f"Ada {index}")


def test_a_new_contact_s_first_message_costs_ingest_one_statement_after_its_arrival_read_on_postgresql(
    db: Database,
) -> None:
    db.write_sync(lambda conn: set_up(conn, CONTACTS))
    with Statements(db) as counted:
        receipts = db.write_sync(lambda conn: [receive_inbound(conn, _inbound(i)) for i in range(CONTACTS)])
    writes = 2 if ON_POSTGRESQL else 5  # SQLite: one insert after another (function calls, not round trips)
    origins = counted.by_origin()
    shared = sum(origins[o] for o in ("store.database (the writer)", "sql.events.events_at_commit", "notify.send"))
    assert counted.total() - shared == writes * CONTACTS, "\n".join(counted.report(CONTACTS))
    assert all(r.conversation_opened and not r.duplicate for r in receipts)
    rows = query(
        db,
        "SELECT c.name, i.external_id, v.status, v.source, v.channel_id, m.text, m.opened_conversation,"
        " m.direction, m.provider_message_id, v.opened_at <= m.created_at, c.created_at <= v.opened_at"
        " FROM contacts c JOIN contact_identities i ON i.contact_id = c.id"
        " JOIN conversations v ON v.contact_id = c.id JOIN messages m ON m.conversation_id = v.id"
        " ORDER BY c.id",
    )
    assert [r[:9] for r in rows] == [
        (f"Ada {i}", f"new-{i}", "open", "contact", 1, f"Hello {i}", True, "in", f"new-m{i}") for i in range(CONTACTS)
    ]
    assert all(r[9] and r[10] for r in rows)  # the contact, then its conversation, then the message
    events = query(db, "SELECT contact_id, type FROM events WHERE type IN"
                   " ('contact.created', 'conversation.opened', 'message.received') ORDER BY id")  # fmt: skip
    by_contact: dict[object, list[object]] = {}
    for contact_id, kind in events:
        by_contact.setdefault(contact_id, []).append(kind)
    assert [by_contact[r.contact_id] for r in receipts] == [
        ["contact.created", "conversation.opened", "message.received"]
    ] * CONTACTS


def test_a_new_contact_s_one_statement_that_meets_another_s_identity_leaves_nothing_and_gives_way(
    db: Database,
) -> None:
    """Another process created the sender's contact between ingest's arrival read and its write
    (writers take turns today; parallel writers later): the one statement writes the contact
    only, which is deleted, and the message goes to the other contact's conversation as before."""
    db.write_sync(lambda conn: set_up(conn, 1))
    winner, _ = db.write_sync(lambda conn: create_by_identity(conn, 1, "new-0", "Winner"))
    before = query(db, "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM conversations)")
    now = dt.datetime.now(dt.UTC)
    gave_way = db.write_sync(lambda conn: ingest._first_message_of_new_contact(conn, _inbound(0), (now, now, now)))
    assert gave_way is None
    assert query(db, "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM conversations)") == before
    receipt = db.write_sync(lambda conn: receive_inbound(conn, _inbound(0)))
    assert receipt.contact_id == winner and receipt.conversation_opened


def test_a_known_sender_s_message_into_their_open_conversation_costs_ingest_one_statement_after_its_arrival_read(
    db: Database,
) -> None:
    db.write_sync(lambda conn: set_up(conn, CONTACTS))
    first = db.write_sync(lambda conn: [receive_inbound(conn, _inbound(i)) for i in range(CONTACTS)])
    again = [InboundMessage(1, f"new-{i}", f"again-m{i}", f"Again {i}", f"Ada {i}") for i in range(CONTACTS)]
    with Statements(db) as counted:
        receipts = db.write_sync(lambda conn: [receive_inbound(conn, inbound) for inbound in again])
    writes = 2 if ON_POSTGRESQL else 3  # SQLite: the conversation's UPDATE, then the message's INSERT
    origins = counted.by_origin()
    shared = sum(origins[o] for o in ("store.database (the writer)", "sql.events.events_at_commit", "notify.send"))
    assert counted.total() - shared == writes * CONTACTS, "\n".join(counted.report(CONTACTS))
    assert [(r.conversation_id, r.conversation_opened) for r in receipts] == [(f.conversation_id, False) for f in first]
    rows = query(
        db,
        "SELECT v.id, v.channel_id, v.last_message_at = m.created_at, m.text, m.opened_conversation FROM messages m"
        " JOIN conversations v ON v.id = m.conversation_id WHERE m.text LIKE 'Again %%' ORDER BY m.id",
    )
    assert rows == [(f.conversation_id, 1, True, f"Again {i}", False) for i, f in enumerate(first)]
