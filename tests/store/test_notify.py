"""Wake-ups between processes on PostgreSQL: one Database hears another's commits by NOTIFY, never
its own, and hears again after its listening connection is killed."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Iterator

import pytest

from frontdesk.store.database import Database, wake
from frontdesk.store.notify import APPLICATION, CommitListener
from tests.databases import ON_POSTGRESQL, query
from tests.factories import eventually

pytestmark = pytest.mark.skipif(not ON_POSTGRESQL, reason="needs a PostgreSQL server: runs in the PostgreSQL pass")
_LISTENERS = (  # listening: its last statement was LISTEN
    f"FROM pg_stat_activity WHERE application_name = '{APPLICATION}' AND datname = current_database()"
    " AND query LIKE 'LISTEN %'"
)


@pytest.fixture
def other(db_url: str) -> Iterator[Database]:
    """A second process's Database on the same database (its own writer, its own sender id)."""
    database = Database(db_url)
    database.start()
    yield database
    database.close()


@pytest.fixture
def heard(db: Database, db_url: str) -> Iterator[queue.Queue[set[str]]]:
    """The topics `db`'s listeners are told, its listener started and connected."""
    topics: queue.Queue[set[str]] = queue.Queue()
    db.on_commit(topics.put)
    listener = CommitListener(db)
    listener.start()
    eventually(lambda: query(db_url, f"SELECT pid {_LISTENERS}"), "the listener listening")
    yield topics
    listener.stop_sync()


def _next(topics: queue.Queue[set[str]]) -> set[str]:
    return topics.get(timeout=10)


def test_a_commit_in_one_process_wakes_another_with_its_topics(other: Database, heard: queue.Queue[set[str]]) -> None:
    started = time.perf_counter()
    other.write_sync(lambda conn: (wake(conn, "events"), wake(conn, "delivery")))

    assert _next(heard) == {"events", "delivery"}
    print(f"heard {1000 * (time.perf_counter() - started):.1f} ms after the write began")


def test_a_process_does_not_hear_its_own_commits_twice(
    db: Database, other: Database, heard: queue.Queue[set[str]]
) -> None:
    db.write_sync(lambda conn: wake(conn, "timers"))
    other.write_sync(lambda conn: wake(conn, "http"))  # heard after db's own notification, if any

    assert [_next(heard), _next(heard)] == [{"timers"}, {"http"}]  # told once by its writer, not echoed


def test_a_write_that_wakes_nothing_tells_nobody(db: Database, other: Database, heard: queue.Queue[set[str]]) -> None:
    other.write_sync(lambda conn: conn.exec_driver_sql("SELECT 1"))
    other.write_sync(lambda conn: wake(conn, "events"))

    assert _next(heard) == {"events"}


def test_the_listener_reconnects_after_its_connection_is_killed_and_hears_again(
    db_url: str, other: Database, heard: queue.Queue[set[str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="frontdesk.store.notify")
    [(first,)] = query(db_url, f"SELECT pid {_LISTENERS}")

    assert query(db_url, f"SELECT pg_terminate_backend({first})") == [(True,)]

    again = eventually(lambda: [p for (p,) in query(db_url, f"SELECT pid {_LISTENERS}") if p != first], "a new one")
    assert len(again) == 1
    while not heard.empty():
        heard.get()
    other.write_sync(lambda conn: wake(conn, "delivery"))
    assert _next(heard) == {"delivery"}
    assert "commit listener lost its connection; reconnecting" in caplog.text
