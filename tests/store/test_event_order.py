"""Events commit in id order, so a reader that moves its cursor past what it read never skips one.

On PostgreSQL an id comes from a sequence when the row is inserted, and transactions commit in any
order: a transaction holding id 7 may commit after one holding id 8, and a reader that saw 8 and
moved its cursor there never sees 7. The writers of every process take turns, and insert a
transaction's events at commit under an advisory lock (store/sql/events.py, ADR 0008). The first
test shows the hazard on plain connections; the second that the writers' path never skips.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection, create_engine, text

from frontdesk.domain.partitions import PARTITIONS
from frontdesk.store.database import Database
from frontdesk.store.sql import events
from tests.databases import ON_POSTGRESQL

NOW = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)


def _the_writers_way(conn: Connection, kind: str) -> None:
    events.append(conn, kind, {}, None, None, NOW)


@pytest.fixture
def writers(db_url: str) -> Iterator[list[Database]]:
    """Three processes' worth of writers on one database."""
    found = [Database(db_url) for _ in range(3)]
    for db in found:
        db.start()
    yield found
    for db in found:
        db.close()


def _read_all(db: Database, cursor: int) -> list[int]:
    return [e.id for _, e in db.read_sync(lambda c: events.after(c, cursor, range(PARTITIONS), 1000))]


@pytest.mark.skipif(not ON_POSTGRESQL, reason="one SQLite writer at a time: ids always commit in order there")
def test_on_plain_connections_a_reader_moving_its_cursor_skips_an_event_for_good(db_url: str) -> None:
    """The hazard itself, on two connections that skip the writer's turn and lock."""
    engine = create_engine(db_url)
    insert_one = text("INSERT INTO events (type, payload, created_at) VALUES ('test.plain', '{}', now()) RETURNING id")
    try:
        with engine.connect() as slow, engine.connect() as fast:
            slow_id = slow.execute(insert_one).scalar_one()  # takes its id first, commits last
            fast_id = fast.execute(insert_one).scalar_one()
            fast.commit()
            seen = [r[0] for r in fast.execute(text("SELECT id FROM events WHERE id > 0 ORDER BY id"))]
            fast.commit()
            slow.commit()
            after = [r[0] for r in fast.execute(text("SELECT id FROM events WHERE id > :c"), {"c": seen[-1]})]
    finally:
        engine.dispose()

    assert slow_id < fast_id
    assert seen == [fast_id] and after == []  # the cursor moved past `slow_id` before it committed


def test_many_concurrent_writers_never_leave_a_gap_behind_a_moving_cursor(writers: list[Database]) -> None:
    jobs_per_writer = 150
    done = threading.Event()
    seen: list[int] = []

    def job(conn: Connection) -> None:
        for _ in range(random.randint(1, 3)):
            _the_writers_way(conn, "test.many")
        time.sleep(random.uniform(0, 0.002))  # commits land in every order the scheduler picks

    def write(db: Database) -> None:
        futures = [db.submit(job) for _ in range(jobs_per_writer)]
        for future in futures:
            future.result(30)

    def follow() -> None:  # a reader moving its cursor as the engine does, while the writers write
        while not done.is_set():
            seen.extend(_read_all(writers[0], seen[-1] if seen else 0))
        seen.extend(_read_all(writers[0], seen[-1] if seen else 0))

    with ThreadPoolExecutor(len(writers) + 1) as pool:
        follower = pool.submit(follow)
        for future in [pool.submit(write, db) for db in writers]:
            future.result(60)
        done.set()
        follower.result(30)

    every = _read_all(writers[0], 0)
    assert len(every) >= len(writers) * jobs_per_writer
    assert seen == every
