"""The statements a new conversation costs the writer (scenario 1: inbound message → conversation
opened → inbound workflow greets, routes, assigns), counted at the driver so they cannot silently
grow back: on PostgreSQL each is a round trip inside the writers' turn (docs/scaling.md)."""

from __future__ import annotations

from bench.cpu import TEXTS, set_up
from sqlalchemy import Connection

from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.clock import now
from frontdesk.engine.consumer import process_events
from frontdesk.engine.runs import VersionCache
from frontdesk.store.database import Database
from tests.statements import Statements

CONVERSATIONS = 30
# Measured 25.4 per conversation on both databases (docs/scaling.md; 31.2 before issue 14's cuts);
# the transactions' own statements (BEGIN, the turn, the events' lock, COMMIT) are shared by all.
BUDGET = 24


def _inbound(index: int) -> InboundMessage:
    return InboundMessage(1, f"budget-{index}", f"budget-m{index}", TEXTS[index % 3], f"Ada Lovelace {index}")


def _consume(conn: Connection, cache: VersionCache) -> None:
    while process_events(conn, cache, now()):
        pass


def test_a_new_conversation_costs_the_writer_at_most_its_budget_of_statements(db: Database) -> None:
    db.write_sync(lambda conn: set_up(conn, CONVERSATIONS))
    cache = VersionCache()
    db.write_sync(lambda conn: _consume(conn, cache))  # the set-up's own events
    with Statements(db) as counted:
        db.write_sync(lambda conn: [receive_inbound(conn, _inbound(i)) for i in range(CONVERSATIONS)])
        db.write_sync(lambda conn: _consume(conn, cache))
    assigned = db.read_sync(
        lambda conn: conn.exec_driver_sql("SELECT count(*) FROM conversations WHERE assignee_id IS NOT NULL").scalar()
    )
    assert assigned == CONVERSATIONS
    report = "\n".join(counted.report(CONVERSATIONS))
    assert counted.total() / CONVERSATIONS <= BUDGET, report
    assert counted.total() / CONVERSATIONS > BUDGET / 2, report  # the counter sees the statements
