"""The store's statements run on the dialect `Database` chose for its URL, and only on one."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from sqlalchemy import create_engine

from frontdesk.store import dialects, rows
from frontdesk.store.database import Database
from frontdesk.store.dialects.sqlite import SQLite
from frontdesk.store.sql import contacts, events
from tests.databases import sqlite_only


def test_database_runs_its_statements_on_the_dialect_of_its_url(db: Database) -> None:
    assert db.dialect is not None and db.dialect.name == db.write_engine.dialect.name
    assert db.write_sync(rows.dialect) is db.dialect
    assert db.read_sync(rows.dialect) is db.dialect


def test_a_database_without_a_dialect_is_left_to_sqlalchemy_and_the_store_says_so(db_url: str) -> None:
    assert dialects.for_url("mysql://frontdesk@localhost/frontdesk") is None
    assert type(dialects.for_url("postgresql+psycopg://frontdesk@localhost/frontdesk")).__name__ == "PostgreSQL"
    engine = create_engine(db_url)  # not through Database: no dialect attached
    name = engine.dialect.name
    try:
        with engine.connect() as conn, pytest.raises(RuntimeError, match=f"no store dialect on this {name} connection"):
            events.last_id(conn)
    finally:
        engine.dispose()


class _Recording(SQLite):
    """SQLite that notes each statement: stands for a second database's dialect."""

    def __init__(self) -> None:
        super().__init__()
        self.statements: list[str] = []

    def execute(self, driver: Any, sql: str, params: Sequence[Any]) -> Any:
        self.statements.append(sql)
        return super().execute(driver, sql, params)


@sqlite_only("a recording dialect wraps SQLite's (the PostgreSQL pass runs every store function on its own)")
def test_the_store_functions_run_on_whichever_dialect_the_connection_carries(db_url: str) -> None:
    engine = create_engine(db_url)
    dialect = _Recording()
    rows.attach(engine, dialect)
    try:
        with engine.connect() as conn:
            assert contacts.by_identity(conn, 1, "nobody") is None
            assert events.last_id(conn) >= 0
    finally:
        engine.dispose()
    assert len(dialect.statements) == 2
    assert dialect.statements[0].startswith("SELECT contact_id FROM contact_identities")
