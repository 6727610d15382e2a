"""PostgreSQL caches a generic plan for each statement a connection prepares (psycopg prepares a
statement from its sixth run), made with the statistics of that moment: on a new database, empty
tables, until autovacuum first analyzes them. A hot statement's shape must keep that plan a lookup
when the tables have grown since.

Two statements were joins that such a plan ran as scans: ingest's arrival read joined the contact's
open conversation (it read every open conversation for each message: 631 µs a message in a
10-second benchmark on a new database, 15 µs as a correlated lookup), and the reply window's read
of the contact's last inbound message (every message). Both are correlated subqueries now.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from bench.cpu import set_up
from sqlalchemy import Connection, create_engine

from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.store.database import Database, with_driver
from frontdesk.store.sql.messages import _ARRIVAL, _LAST_INBOUND
from tests.databases import ON_POSTGRESQL

pytestmark = pytest.mark.skipif(not ON_POSTGRESQL, reason="SQLite plans each statement when it is prepared")
SENDERS = 400
# name: (statement, its parameters' types, its arguments on empty tables, then for sender s7 on
# channel 1 (`{contact}`: s7's id), the columns of its row that must then be found)
STATEMENTS = {
    "arrival": (_ARRIVAL, "text, text, bigint", "'first', 'nobody', 1", "'again', 's7', 1", (5, 6)),
    "last_inbound": (_LAST_INBOUND, "bigint, bigint", "1, 1", "1, {contact}", (0,)),
}


def _numbered(sql: str) -> str:
    """`?` → `$1`, `$2`… as PREPARE wants them."""
    numbers = itertools.count(1)
    return re.sub(r"\?", lambda _: f"${next(numbers)}", sql)


def _rows_read(plan: dict[str, Any]) -> int:
    """Rows the plan's scans returned or filtered out, over all their loops."""
    own = 0
    if "Relation Name" in plan:
        own = (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)) * plan["Actual Loops"]
    return own + sum(_rows_read(child) for child in plan.get("Plans", []))


def _grow(conn: Connection) -> None:
    for i in range(SENDERS):  # a contact each, with an open conversation and a message
        receive_inbound(conn, InboundMessage(1, f"s{i}", f"m{i}", "Hello", f"Sender {i}"))


def test_hot_reads_planned_on_empty_tables_stay_lookups_once_the_tables_grew(db: Database, db_url: str) -> None:
    db.write_sync(lambda conn: set_up(conn, 4))
    engine = create_engine(with_driver(db_url))
    read: dict[str, int] = {}
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SET plan_cache_mode = force_generic_plan")
            for name, (sql, types, empty, _grown, _columns) in STATEMENTS.items():
                conn.exec_driver_sql(f"PREPARE {name}({types}) AS {_numbered(sql)}")
                conn.exec_driver_sql(f"EXECUTE {name}({empty})")
            conn.commit()  # their plans, made on empty tables

            db.write_sync(_grow)
            identity = "SELECT contact_id FROM contact_identities WHERE external_id = 's7'"
            contact = conn.exec_driver_sql(identity).scalar_one()
            for name, (_, _, _, grown, columns) in STATEMENTS.items():
                arguments = grown.format(contact=contact)
                found = conn.exec_driver_sql(f"EXECUTE {name}({arguments})").one()
                assert None not in [found[column] for column in columns], f"{name} found s7's rows: {found}"
                explain = f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE {name}({arguments})"
                read[name] = _rows_read(conn.exec_driver_sql(explain).scalar_one()[0]["Plan"])
    finally:
        engine.dispose()

    assert max(read.values()) <= 6, f"rows read among {SENDERS} contacts' (a lookup reads a few): {read}"
