"""The store keeps its promises by itself: invariants in the schema, isolation in the writer."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import Connection, create_engine, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from frontdesk.domain.errors import InvalidInput
from frontdesk.store.database import Database
from frontdesk.store.tables import contacts, conversations, teams
from tests.databases import sqlite_only

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _contact(conn: Connection) -> int:
    return int(
        conn.execute(
            insert(contacts).values(name="x", fields={}, tags=[], created_at=NOW, updated_at=NOW)
        ).inserted_primary_key[0]
    )


def _open(conn: Connection, contact_id: int) -> None:
    conn.execute(
        insert(conversations).values(
            contact_id=contact_id, status="open", source="api", opened_at=NOW, last_message_at=NOW
        )
    )


def test_database_refuses_a_second_open_conversation_for_a_contact(db: Database) -> None:
    contact_id = db.write_sync(_contact)
    db.write_sync(lambda c: _open(c, contact_id))

    with pytest.raises(IntegrityError):
        db.write_sync(lambda c: _open(c, contact_id))
    count = db.read_sync(lambda c: c.execute(select(func.count()).select_from(conversations)).scalar())
    assert count == 1


def test_a_closed_conversation_does_not_block_a_new_open_one(db: Database) -> None:
    contact_id = db.write_sync(_contact)
    db.write_sync(lambda c: _open(c, contact_id))
    db.write_sync(lambda c: c.execute(text("UPDATE conversations SET status = 'closed'")))

    db.write_sync(lambda c: _open(c, contact_id))


def test_a_failing_write_changes_nothing_and_spares_its_batch_neighbours(db: Database) -> None:
    def good(n: int):  # type: ignore[no-untyped-def]
        return lambda c: c.execute(insert(teams).values(name=f"team {n}", assignment={}, created_at=NOW))

    def bad(c: Connection) -> None:
        c.execute(insert(teams).values(name="half written", assignment={}, created_at=NOW))
        raise InvalidInput("nope", "refused after a first insert")

    futures = [db.submit(good(n) if n % 3 else bad) for n in range(60)]  # queued together: one batch or few

    outcomes = [f.exception() for f in futures]
    assert sum(isinstance(o, InvalidInput) for o in outcomes) == 20
    names = db.read_sync(lambda c: set(c.execute(select(teams.c.name)).scalars()))
    assert "half written" not in names
    assert len(names) == 40


def test_an_acknowledged_write_is_visible_to_a_fresh_connection(db: Database, db_url: str) -> None:
    engine = create_engine(db_url)
    acknowledged: list[int] = []

    def writer(n: int) -> None:
        db.write_sync(lambda c: c.execute(insert(teams).values(name=f"t{n}", assignment={}, created_at=NOW)))
        acknowledged.append(n)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    with engine.connect() as conn:
        names = set(conn.execute(select(teams.c.name)).scalars())
    engine.dispose()
    assert {f"t{n}" for n in acknowledged} <= names
    assert len(acknowledged) == 50


@sqlite_only("SQLite's journal and sync settings")
def test_sqlite_runs_in_wal_mode_with_full_sync(db: Database) -> None:
    def pragmas(c: Connection) -> tuple[str, int]:
        return c.exec_driver_sql("PRAGMA journal_mode").scalar(), c.exec_driver_sql("PRAGMA synchronous").scalar()

    assert db.write_sync(pragmas) == ("wal", 2)  # 2 = FULL


@sqlite_only("SQLite's writer lock file (PostgreSQL orders writers itself)")
def test_two_databases_on_one_file_take_turns_instead_of_failing_on_the_lock(db_url: str) -> None:
    """The server and its worker write the same SQLite file (ADR 0004). With SQLite's busy
    handler off, a second writer would fail with 'database is locked' while the first holds its
    transaction; the writers' turn on the lock file makes it wait and then commit."""
    first, second = Database(db_url), Database(db_url)
    first.start()
    second.start()
    try:
        second.write_sync(lambda c: c.exec_driver_sql("PRAGMA busy_timeout = 0"))
        inside, release = threading.Event(), threading.Event()

        def hold(c: Connection) -> None:
            c.execute(insert(teams).values(name="first", assignment={}, created_at=NOW))
            inside.set()
            assert release.wait(10)

        held = first.submit(hold)
        assert inside.wait(10)
        waiting = second.submit(lambda c: c.execute(insert(teams).values(name="second", assignment={}, created_at=NOW)))
        assert not waiting.done()  # behind the first writer's turn, not failed
        release.set()
        held.result(10)
        waiting.result(10)
        names = first.read_sync(lambda c: c.execute(select(teams.c.name).order_by(teams.c.id)).scalars().all())
        assert names[-2:] == ["first", "second"]
    finally:
        first.close()
        second.close()
