"""The inbox list's per-conversation figures — the last message shown and the unread count — agree
with a plain reading of every message, for conversations of any shape (notes, agent openings,
read marks anywhere), on real SQLite."""

from __future__ import annotations

import random
from typing import Any

from sqlalchemy import Connection, select, true

from frontdesk.actions.agents import create_agent
from frontdesk.actions.channels import create_channel
from frontdesk.actions.conversations import add_note, close_conversation, open_conversation, send_message
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.actions.read_marks import mark_read
from frontdesk.domain.model import SYSTEM, Actor, AuthorKind, ChannelType
from frontdesk.store.database import Database
from frontdesk.store.sql import inbox
from frontdesk.store.tables import conversation_reads, messages
from frontdesk.web import queries


def _conversations_of_every_shape(conn: Connection, rng: random.Random) -> list[int]:
    channel_id, _ = create_channel(conn, ChannelType.API, "Shapes", {})
    agents = [create_agent(conn, SYSTEM, name=f"Agent {k}", email=f"agent{k}@shapes.local") for k in range(3)]
    conversation_ids = []
    for k in range(40):
        receipt = receive_inbound(conn, InboundMessage(channel_id, f"contact-{k}", f"m{k}-0", "hello", f"C {k}"))
        conversation_ids.append(receipt.conversation_id)
        for j in range(rng.randrange(12)):
            r, agent = rng.random(), Actor(AuthorKind.AGENT, rng.choice(agents))
            if r < 0.4:
                receive_inbound(conn, InboundMessage(channel_id, f"contact-{k}", f"m{k}-{j + 1}", f"in {j}"))
            elif r < 0.65:
                send_message(conn, receipt.conversation_id, agent, f"out {j}")
            elif r < 0.85:
                add_note(conn, receipt.conversation_id, agent, f"note {j}")
            else:
                mark_read(conn, rng.choice(agents), receipt.conversation_id)
    for k in range(4):  # opened again by an agent after a close: nothing in it yet, or only a note
        first = receive_inbound(conn, InboundMessage(channel_id, f"back-{k}", f"back-{k}", "thanks, bye"))
        close_conversation(conn, first.conversation_id, SYSTEM, None, None)
        agent = Actor(AuthorKind.AGENT, agents[k % 3])
        reopened, _ = open_conversation(conn, first.contact_id, agent)
        if k % 2:
            add_note(conn, reopened, agent, "call them back tomorrow")
        conversation_ids.append(reopened)
    return conversation_ids


def _expected(conn: Connection, viewer: int, conversation_ids: list[int]) -> tuple[dict[int, Any], dict[int, int]]:
    rows = conn.execute(select(messages).where(messages.c.conversation_id.in_(conversation_ids))).mappings().all()
    marks = dict(
        conn.execute(
            select(conversation_reads.c.conversation_id, conversation_reads.c.last_read_message_id).where(
                conversation_reads.c.agent_id == viewer
            )
        ).all()
    )
    last: dict[int, Any] = {}
    unread: dict[int, int] = {}
    for row in sorted(rows, key=lambda r: r["id"]):
        conversation_id = row["conversation_id"]
        if not row["private"]:
            keys = ("id", "conversation_id", "text", "direction", "created_at")
            last[conversation_id] = {key: row[key] for key in keys}
        if row["direction"] == "in" and row["id"] > marks.get(conversation_id, 0):
            unread[conversation_id] = unread.get(conversation_id, 0) + 1
    return last, unread


def test_last_messages_and_unread_counts_match_every_message_read_plainly(db: Database) -> None:
    conversation_ids = db.write_sync(lambda c: _conversations_of_every_shape(c, random.Random(11)))
    agents = db.read_sync(lambda c: sorted({r for (r,) in c.execute(select(conversation_reads.c.agent_id))}))
    assert agents  # some read marks were made

    for viewer in [*agents, 999]:  # 999: an agent who never read anything
        last, unread = db.read_sync(lambda c, v=viewer: _expected(c, v, conversation_ids))  # type: ignore[misc]
        assert db.read_sync(lambda c: inbox.last_messages(c, conversation_ids)) == last
        assert db.read_sync(lambda c, v=viewer: inbox.unread_counts(c, v, conversation_ids)) == unread  # type: ignore[misc]
        listed = db.read_sync(
            lambda c, v=viewer: queries.inbox_list(c, v, "all", "open", None, 200, visible=true())  # type: ignore[misc]
        )
        for item in listed:
            assert item["last"] == last.get(item["id"])
            assert item["unread"] == unread.get(item["id"], 0)
    assert any(c not in last for c in conversation_ids)  # empty and notes-only conversations have none
    assert db.read_sync(lambda c: inbox.unread_counts(c, None, conversation_ids)) == {}
    assert db.read_sync(lambda c: inbox.last_messages(c, [])) == {}
