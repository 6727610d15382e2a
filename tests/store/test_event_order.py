"""Events commit in id order, so a reader that moves its cursor past what it read never skips one.

On PostgreSQL an id comes from a sequence when the row is inserted, and transactions commit in any
order: a transaction holding id 7 may commit after one holding id 8, and a reader that saw 8 and
moved its cursor there never sees 7. The writer therefore inserts a transaction's events at commit,
under an advisory lock (store/sql/events.py, ADR 0008). The first test shows the hazard is real with
a plain insert; the others show the writer's path never skips.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Connection

from frontdesk.store import rows
from frontdesk.store.database import Database
from frontdesk.store.sql import events
from frontdesk.store.tables import events as events_table
from tests.databases import ON_POSTGRESQL

NOW = dt.datetime(2026, 12, 3, tzinfo=dt.UTC)
Append = Callable[[Connection, str], None]


def _plain_insert(conn: Connection, kind: str) -> None:
    """What a writer without the lock would do: take the id now, commit whenever."""
    rows.insert(conn, events_table, {"type": kind, "payload": {}, "created_at": NOW})


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
    return [e.id for e in db.read_sync(lambda c: events.after(c, cursor, 1000))]


def _slow_then_fast(writers: list[Database], append: Append) -> tuple[list[int], list[int]]:
    """A slow transaction appends first and commits last; a fast one commits in between, and a
    reader moves its cursor past what it sees then. Returns (every id, the ids the reader saw)."""
    slow, fast, reader = writers
    appended, read = threading.Event(), threading.Event()

    def slow_job(conn: Connection) -> None:
        append(conn, "test.slow")
        appended.set()
        assert read.wait(10)

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(slow.write_sync, slow_job)
        assert appended.wait(10)
        fast.write_sync(lambda c: append(c, "test.fast"))
        seen = _read_all(reader, 0)
        read.set()
        pending.result(10)
    seen += _read_all(reader, seen[-1] if seen else 0)
    return _read_all(reader, 0), seen


# On SQLite the slow transaction holds the write lock, so the fast one cannot commit in between.
CONCURRENT_WRITERS = pytest.mark.skipif(
    not ON_POSTGRESQL, reason="one SQLite writer at a time: nothing commits between"
)


@CONCURRENT_WRITERS
def test_with_a_plain_insert_a_reader_moving_its_cursor_skips_an_event_for_good(writers: list[Database]) -> None:
    every, seen = _slow_then_fast(writers, _plain_insert)

    assert len(every) == 2
    assert seen == [every[1]]  # the slow transaction's lower id committed after the cursor passed it


@CONCURRENT_WRITERS
def test_the_writers_events_commit_in_id_order_so_the_reader_sees_each(writers: list[Database]) -> None:
    every, seen = _slow_then_fast(writers, _the_writers_way)

    assert len(every) == 2
    assert seen == every


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
