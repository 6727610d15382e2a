"""What the writer tells its observers after each batch (frontdesk.metrics counts from it): the
tallies of committed writes only, however the batch ran."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import pytest
from sqlalchemy import Connection

from frontdesk.store.database import Batch, Database, tally, wake


def _observed(db: Database) -> list[Batch]:
    seen: list[Batch] = []
    db.on_batch(seen.append)
    return seen


def _in_one_batch(db: Database, works: list[Any]) -> list[Future[Any]]:
    """Submit `works` while the writer is held by a first job, so that it takes them as one batch."""
    held, release = threading.Event(), threading.Event()

    def hold(conn: Connection) -> None:
        held.set()
        release.wait(10)

    first = db.submit(hold)
    held.wait(10)
    futures = [db.submit(work) for work in works]
    release.set()
    first.result()
    for future in futures:
        future.exception(10)
    return futures


def _fails(conn: Connection) -> None:
    tally(conn, "inbound", "api")
    raise ValueError("refused after counting")


def _counts(conn: Connection) -> None:
    tally(conn, "inbound", "api")
    tally(conn, "delivery", "sent")
    wake(conn, "events")


def test_a_batch_reports_its_size_and_its_committed_tallies(db: Database) -> None:
    seen = _observed(db)

    _in_one_batch(db, [_counts, _counts, _counts])

    last = seen[-1]
    assert last.jobs == 3
    assert last.tally == {("inbound", "api"): 3, ("delivery", "sent"): 3}
    assert last.topics == {"events"}
    assert last.turn_wait >= 0


def test_a_write_that_fails_counts_nothing_and_its_batch_mates_still_count(db: Database) -> None:
    seen = _observed(db)

    futures = _in_one_batch(db, [_counts, _fails, _counts])

    assert [type(f.exception()).__name__ if f.exception() else None for f in futures] == [None, "ValueError", None]
    assert seen[-1].tally == {("inbound", "api"): 2, ("delivery", "sent"): 2}


def test_a_lone_write_that_fails_counts_nothing(db: Database) -> None:
    seen = _observed(db)

    with pytest.raises(ValueError):
        db.write_sync(_fails)

    assert seen[-1].tally == {}
    assert seen[-1].jobs == 1
