"""PostgreSQL caches a generic plan for each statement a connection prepares (psycopg prepares a
statement from its sixth run), made with the statistics of that moment: on a new database, empty
tables. A statement's shape must keep its plan an index lookup when the tables have grown since.

The ingest's arrival read once joined the contact's open conversation as `LEFT JOIN conversations
o ON o.contact_id = i.contact_id AND o.status = 'open'`: planned on empty tables, PostgreSQL
scanned the whole partial index of open conversations for each message and filtered it (a
10-second benchmark on a new database: 631 µs a message, against 15 µs as a correlated lookup).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from bench.cpu import set_up
from sqlalchemy import create_engine

from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.store.database import Database, with_driver
from frontdesk.store.sql.messages import _ARRIVAL
from tests.databases import ON_POSTGRESQL

pytestmark = pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite plans each statement when it is prepared")
SENDERS = 400


def _numbered(sql: str) -> str:
    """`?` → `$1`, `$2`… as PREPARE wants them."""
    numbers = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)


def _rows_read(plan: dict[str, Any], relation: str) -> int:
    """Rows the plan's scans of `relation` returned, over all their loops."""
    own = plan["Actual Rows"] * plan["Actual Loops"] if plan.get("Relation Name") == relation else 0
    return own + sum(_rows_read(child, relation) for child in plan.get("Plans", []))


def test_the_arrival_read_planned_on_empty_tables_stays_a_lookup_once_they_grew(db: Database, db_url: str) -> None:
    db.write_sync(lambda conn: set_up(conn, 4))
    engine = create_engine(with_driver(db_url))
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
            conn.exec_driver_sql(f"PREPARE arrival(text, text, bigint) AS {_numbered(_ARRIVAL)}")
            conn.exec_driver_sql("EXECUTE arrival('first', 'nobody', 1)")  # its plan, made now
            conn.commit()

            def grow(work_conn: Any) -> None:
                for i in range(SENDERS):
                    receive_inbound(work_conn, InboundMessage(1, f"s{i}", f"m{i}", "Hello", f"Sender {i}"))

            db.write_sync(grow)  # SENDERS contacts, each with an open conversation
            explain = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE arrival('again', 's7', 1)"
            plan = conn.exec_driver_sql(explain).scalar_one()[0]["Plan"]
            found = conn.exec_driver_sql("EXECUTE arrival('again', 's7', 1)").one()
    finally:
        engine.dispose()

    assert found[5] is not None and found[6] is not None  # s7 is known and has an open conversation
    read = _rows_read(plan, "conversations")
    assert read <= 2, f"the arrival read {read} conversations' rows among {SENDERS} open ones"
