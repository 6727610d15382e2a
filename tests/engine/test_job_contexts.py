"""An engine job reads the conversations and contacts its triggers need in one statement
(`conversations.read_with_contacts`); what its runs then change is what the job's later runs see.
(A trigger's conditions see the event's context, as before any run of it; a run sees the records
as the runs before it left them.)"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from frontdesk.actions.channels import create_channel
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.actions.workflows import create_workflow, publish, set_enabled
from frontdesk.domain.model import SYSTEM, ChannelType
from frontdesk.engine.consumer import process_events
from frontdesk.engine.runs import VersionCache
from frontdesk.store import rows
from frontdesk.store.database import Database
from frontdesk.store.sql import conversations
from tests.factories import query
from tests.statements import Statements

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CONTACTS = 5

TAGGER = {
    "name": "Tagger",
    "trigger": {"event": "conversation.opened"},
    "steps": [{"id": "tag", "type": "update_tags", "add": ["vip"]}],
}
VIP = {
    "name": "VIP welcome",
    "trigger": {"event": "conversation.opened"},
    "steps": [{"id": "hello", "type": "send_message", "text": "Hello {{ contact.name }}, tags {{ contact.tags }}"}],
}


def _setup(conn: Connection) -> int:
    for definition in (TAGGER, VIP):  # in this order: the tagger's run comes first
        workflow_id = create_workflow(conn, definition)
        publish(conn, workflow_id, SYSTEM)
        set_enabled(conn, workflow_id, True, SYSTEM)
    return create_channel(conn, ChannelType.API, "Chat", {})[0]


def test_one_job_reads_its_contexts_at_once_and_later_runs_see_what_earlier_ones_changed(db: Database) -> None:
    channel_id = db.write_sync(_setup)
    db.write_sync(
        lambda conn: [
            receive_inbound(conn, InboundMessage(channel_id, f"c{n}", f"m{n}", "Hi", f"Contact {n}"))
            for n in range(CONTACTS)
        ]
    )
    with Statements(db) as counted:
        assert db.write_sync(lambda conn: process_events(conn, VersionCache(), NOW)) > 0

    def read_by(function: str) -> int:  # the statements of the store's `function` (or of a lambda in its module)
        module = function.split(".")[0]
        return sum(
            n
            for (origin, sql), n in counted.seen.items()
            if origin.startswith((f"sql.{function} ", f"sql.{module}.<lambda> ")) and sql.startswith("SELECT")
        )

    report = "\n".join(counted.report(CONTACTS))
    assert read_by("conversations.read_with_contacts") == 1, report  # every conversation's context at once
    assert read_by("conversations.with_contact") == 0, report
    assert read_by("contacts.get") == CONTACTS, report  # each contact again, after the tagger changed it
    # The tagger's run changed each contact before the second workflow's run rendered its message.
    started = query(
        db, "SELECT w.name, count(*) FROM workflow_runs r JOIN workflows w ON w.id = r.workflow_id GROUP BY w.name"
    )
    assert dict(started) == {"Tagger": CONTACTS, "VIP welcome": CONTACTS}
    texts = sorted(text for (text,) in query(db, "SELECT text FROM messages WHERE direction = 'out'"))
    assert texts == sorted(f"Hello Contact {n}, tags ['vip']" for n in range(CONTACTS))


def test_a_job_s_contexts_are_read_in_lists_of_a_few_lengths_and_each_conversation_once(db: Database) -> None:
    """300 conversations: a list of 256 and one of 64 (44 padded with the last id), each read once."""
    channel_id = db.write_sync(lambda conn: create_channel(conn, ChannelType.API, "Chat", {})[0])
    opened = db.write_sync(
        lambda conn: [
            receive_inbound(conn, InboundMessage(channel_id, f"c{n}", f"m{n}", "Hi", f"Contact {n}")).conversation_id
            for n in range(300)
        ]
    )

    def job(conn: Connection) -> list[tuple[int, str | None]]:
        with rows.memo(conn):
            conversations.read_with_contacts(conn, [*opened, *opened[:10]])  # twice in the list: read once
            found = [conversations.with_contact(conn, i) for i in opened]
        return [(v.id, c.name) for v, c in (f for f in found if f is not None)]

    with Statements(db) as counted:
        read = db.write_sync(job)

    assert read == [(i, f"Contact {n}") for n, i in enumerate(opened)]
    reads = sum(n for (origin, _), n in counted.seen.items() if origin.startswith("sql.conversations."))
    assert reads == 2, "\n".join(counted.report(1))  # 256 + 64, and none by `with_contact`
