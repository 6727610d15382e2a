"""Property-based: any interleaving of messages, retries, opens and closes keeps the lifecycle rules."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from frontdesk.actions.channels import create_channel
from frontdesk.actions.conversations import close_conversation, find_open_conversation, open_conversation
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.domain.model import SYSTEM, Actor, AuthorKind, ChannelType
from frontdesk.store.database import Database
from frontdesk.store.tables import conversations, events, messages
from tests.factories import fresh_database

CONTACTS = ["ada", "bob", "cy"]
AGENT = Actor(AuthorKind.API)

operation = st.one_of(
    st.tuples(st.just("message"), st.sampled_from(CONTACTS)),
    st.tuples(st.just("retry"), st.sampled_from(CONTACTS)),
    st.tuples(st.just("close"), st.sampled_from(CONTACTS)),
    st.tuples(st.just("agent_opens"), st.sampled_from(CONTACTS)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(operations=st.lists(operation, max_size=30))
def test_any_sequence_keeps_one_open_conversation_per_contact(
    template_db: Path, operations: list[tuple[str, str]]
) -> None:
    with fresh_database(template_db) as db:
        _check(db, operations)


def _check(db: Database, operations: list[tuple[str, str]]) -> None:
    channel_id, _ = db.write_sync(lambda c: create_channel(c, ChannelType.API, "P", {}))
    open_by_contact: dict[str, int] = {}  # the model: which conversation is open for whom
    contact_ids: dict[str, int] = {}
    last_message: dict[str, tuple[InboundMessage, object]] = {}
    sent = 0
    for step, (kind, who) in enumerate(operations):
        if kind == "message" or (kind == "retry" and who not in last_message):
            inbound = InboundMessage(channel_id, who, f"m{step}", f"text {step}")
            receipt = db.write_sync(lambda c, m=inbound: receive_inbound(c, m))  # type: ignore[misc]
            sent += 1
            assert receipt.conversation_opened == (who not in open_by_contact)
            if who in open_by_contact:
                assert receipt.conversation_id == open_by_contact[who]
            open_by_contact[who] = receipt.conversation_id
            contact_ids[who] = receipt.contact_id
            last_message[who] = (inbound, receipt)
        elif kind == "retry":
            inbound, first = last_message[who]
            again = db.write_sync(lambda c, m=inbound: receive_inbound(c, m))  # type: ignore[misc]
            assert (again.message_id, again.conversation_id) == (first.message_id, first.conversation_id)  # type: ignore[attr-defined]
            assert again.duplicate
        elif kind == "close" and who in open_by_contact:
            conversation_id = open_by_contact.pop(who)
            db.write_sync(lambda c, i=conversation_id: close_conversation(c, i, SYSTEM, None, None))  # type: ignore[misc]
        elif kind == "agent_opens" and who in contact_ids:
            conversation_id, opened = db.write_sync(
                lambda c, i=contact_ids[who]: open_conversation(c, i, AGENT)  # type: ignore[misc]
            )
            assert opened == (who not in open_by_contact)
            open_by_contact[who] = conversation_id

        for name, contact_id in contact_ids.items():
            row = db.read_sync(lambda c, i=contact_id: find_open_conversation(c, i))  # type: ignore[misc]
            assert (row["id"] if row else None) == open_by_contact.get(name)

    def count(c, table, where=None):  # type: ignore[no-untyped-def]
        query = select(func.count()).select_from(table)
        return c.execute(query if where is None else query.where(where)).scalar()

    total = db.read_sync(lambda c: count(c, conversations))
    assert db.read_sync(lambda c: count(c, events, events.c.type == "conversation.opened")) == total
    assert db.read_sync(lambda c: count(c, messages)) == sent
    assert db.read_sync(lambda c: count(c, events, events.c.type == "message.received")) == sent
