"""Ingest beside the other writers (PostgreSQL, ADR 0008): a known sender's message into their open
conversation and a new sender's first message do not wait for the writers' turn; anything a
concurrent write could make wrong runs again in the turn, and ends as if the writes took turns.

`other` plays another process's writer: a plain session on the same database, holding the turn,
a conversation's row or a new identity in a transaction it has not committed yet.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bench.cpu import set_up
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.exc import DBAPIError

from frontdesk.actions.ingest import InboundMessage, Receipt, receive_inbound
from frontdesk.store.database import Batch, Database, conflicted, with_driver
from frontdesk.store.dialects.postgresql import WRITER_TURN_LOCK
from tests.databases import ON_POSTGRESQL
from tests.factories import eventually

pytestmark = pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite has one writer at a time: nothing runs beside it")
SECONDS = 60  # a deadline for a write that must not wait on `other`, not a speed


@pytest.fixture
def other(db_url: str) -> Iterator[Connection]:
    engine = create_engine(with_driver(db_url))
    with engine.connect() as conn:
        yield conn
        conn.rollback()
    engine.dispose()


@pytest.fixture
def batches(db: Database) -> list[Batch]:
    db.write_sync(lambda conn: set_up(conn, 4))
    seen: list[Batch] = []
    db.on_batch(seen.append)
    return seen


def _message(sender: str, message_id: str, text: str = "Hello", name: str | None = "Ada") -> InboundMessage:
    return InboundMessage(1, sender, message_id, text, name)


def _write(db: Database, inbound: InboundMessage) -> Receipt:
    return db.submit(lambda conn: receive_inbound(conn, inbound), parallel=True).result(timeout=SECONDS)


def _waits_for_a_lock(db: Database) -> bool:
    sql = "SELECT count(*) FROM pg_locks WHERE NOT granted"
    return db.read_sync(lambda conn: conn.exec_driver_sql(sql).scalar_one()) > 0


def _conversations_of(db: Database, contact_id: int) -> list[tuple[int, str, list[str]]]:
    sql = (
        "SELECT v.id, v.status, m.provider_message_id FROM conversations v JOIN messages m ON m.conversation_id = v.id"
        f" WHERE v.contact_id = {int(contact_id)} ORDER BY v.id, m.id"
    )
    found: dict[int, tuple[int, str, list[str]]] = {}
    for conversation_id, status, message_id in db.read_sync(lambda conn: list(conn.exec_driver_sql(sql))):
        found.setdefault(conversation_id, (conversation_id, status, []))[2].append(message_id)
    return list(found.values())


def test_a_message_into_an_open_conversation_commits_while_another_process_holds_the_turn(
    db: Database, batches: list[Batch], other: Connection
) -> None:
    first = _write(db, _message("ada", "m1"))
    bob = _write(db, _message("bob", "b1", name="Bob"))
    db.write_sync(
        lambda conn: conn.exec_driver_sql(
            f"UPDATE conversations SET status = 'closed' WHERE id = {bob.conversation_id}"
        )
    )
    batches.clear()

    other.execute(text(f"SELECT pg_advisory_xact_lock({WRITER_TURN_LOCK})"))  # the turn, held
    again = _write(db, _message("ada", "m2", "Again"))  # beside it
    reopening = db.submit(lambda conn: receive_inbound(conn, _message("bob", "b2", "Back", "Bob")), parallel=True)
    eventually(lambda: _waits_for_a_lock(db), "Bob's message waiting for the turn: it opens a conversation")
    assert not reopening.done()
    other.rollback()  # the turn is free
    back = reopening.result(timeout=SECONDS)

    assert (again.conversation_id, again.conversation_opened) == (first.conversation_id, False)
    assert back.conversation_opened and back.conversation_id != bob.conversation_id
    assert _conversations_of(db, back.contact_id) == [
        (bob.conversation_id, "closed", ["b1"]),
        (back.conversation_id, "open", ["b2"]),
    ]
    assert [b.beside for b in batches if b.jobs] == ["committed", "retried"]


def test_a_conversation_closed_by_another_process_meanwhile_gets_no_message_a_new_one_opens(
    db: Database, batches: list[Batch], other: Connection
) -> None:
    first = _write(db, _message("ada", "m1"))
    close = "UPDATE conversations SET status = 'closed', closed_at = now() WHERE id = :id"
    other.execute(text(close), {"id": first.conversation_id})  # not committed: it holds the row

    writing = db.submit(lambda conn: receive_inbound(conn, _message("ada", "m2", "Still there?")), parallel=True)
    eventually(lambda: _waits_for_a_lock(db), "the message waiting for the conversation's row")
    other.commit()  # the agent's close lands first
    receipt = writing.result(timeout=SECONDS)

    assert receipt.conversation_opened and receipt.conversation_id != first.conversation_id
    assert _conversations_of(db, first.contact_id) == [
        (first.conversation_id, "closed", ["m1"]),
        (receipt.conversation_id, "open", ["m2"]),
    ]
    assert [b.beside for b in batches if b.jobs][-1] == "retried"


def test_a_new_sender_another_process_is_creating_meanwhile_joins_that_contact(
    db: Database, batches: list[Batch], other: Connection
) -> None:
    contact = (
        "INSERT INTO contacts (name, fields, tags, created_at, updated_at)"
        " VALUES ('Eve', '{}', '[]', now(), now()) RETURNING id"
    )
    contact_id = other.execute(text(contact)).scalar_one()
    identity = "INSERT INTO contact_identities (contact_id, channel_id, external_id) VALUES (:c, 1, 'eve')"
    other.execute(text(identity), {"c": contact_id})  # not committed: the identity's index entry is held

    writing = db.submit(lambda conn: receive_inbound(conn, _message("eve", "e1", name="Eve")), parallel=True)
    eventually(lambda: _waits_for_a_lock(db), "the first message waiting for the identity")
    other.commit()
    receipt = writing.result(timeout=SECONDS)

    assert (receipt.contact_id, receipt.conversation_opened) == (contact_id, True)
    assert _conversations_of(db, contact_id) == [(receipt.conversation_id, "open", ["e1"])]
    count = "SELECT count(*) FROM contacts WHERE name = 'Eve'"
    assert db.read_sync(lambda conn: conn.exec_driver_sql(count).scalar_one()) == 1
    assert [b.beside for b in batches if b.jobs][-1] == "retried"


def test_two_writers_locking_two_conversations_in_opposite_orders_both_commit(
    db: Database, batches: list[Batch], other: Connection
) -> None:
    """ADR 0008: batches beside the turn lock conversations' rows in their jobs' order, so two of
    them can wait for each other. PostgreSQL aborts one; the writer runs its batch again, and every
    message lands once (if PostgreSQL picks `other` instead, the batch simply goes on)."""
    ada, bob = _write(db, _message("ada", "a1")), _write(db, _message("bob", "b1", name="Bob"))
    touch = "UPDATE conversations SET last_message_at = last_message_at WHERE id = :id"
    other.execute(text(touch), {"id": bob.conversation_id})  # holds Bob's row

    def both(conn: Connection) -> tuple[Receipt, Receipt]:  # Ada's row, then Bob's
        return receive_inbound(conn, _message("ada", "a2")), receive_inbound(conn, _message("bob", "b2", name="Bob"))

    writing = db.submit(both, parallel=True)
    eventually(lambda: _waits_for_a_lock(db), "the batch holding Ada's row, waiting for Bob's")
    try:
        other.execute(text(touch), {"id": ada.conversation_id})  # each waits for the other: a deadlock
        other.commit()
    except DBAPIError as exc:  # PostgreSQL chose `other` to break it
        assert conflicted(exc)
        other.rollback()
    again_ada, again_bob = writing.result(timeout=SECONDS)

    assert (again_ada.conversation_id, again_bob.conversation_id) == (ada.conversation_id, bob.conversation_id)
    assert _conversations_of(db, ada.contact_id) == [(ada.conversation_id, "open", ["a1", "a2"])]
    assert _conversations_of(db, bob.contact_id) == [(bob.conversation_id, "open", ["b1", "b2"])]
    assert [b.beside for b in batches if b.jobs][-1] == "committed"
