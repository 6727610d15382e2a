"""Property-based: whatever order engines renew their leases in, and whichever stop, an engine
never holds more than its fair share after its heartbeat, a partition has one owner, and the
engines still renewing end up sharing every partition fairly (ADR 0009)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, select

from frontdesk.domain.partitions import PARTITIONS, fair_share
from frontdesk.store.database import Database
from frontdesk.store.sql import partitions
from frontdesk.store.tables import engine_partitions, engine_workers
from tests.databases import Databases
from tests.factories import fresh_database

START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=5)
WORKERS = ["w0", "w1", "w2", "w3"]
beat = st.tuples(st.sampled_from(WORKERS), st.sampled_from([0.0, 0.5, 1.0, 3.0, 6.0]))


def _owned(conn: Connection) -> dict[str | None, set[int]]:
    found: dict[str | None, set[int]] = {}
    for partition, owner in conn.execute(select(engine_partitions.c.partition, engine_partitions.c.owner)):
        found.setdefault(owner, set()).add(partition)
    return found


def _live(conn: Connection) -> int:
    return len(conn.execute(select(engine_workers.c.owner)).all())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(beats=st.lists(beat, max_size=30), survivors=st.sets(st.sampled_from(WORKERS), min_size=1))
def test_heartbeats_keep_one_owner_per_partition_and_converge_to_fair_shares(
    template_db: Databases, beats: list[tuple[str, float]], survivors: set[str]
) -> None:
    with fresh_database(template_db) as db:
        at = _play(db, beats)
        later = at + 2 * LEASE  # whoever is not among the survivors has stopped: its lease ran out
        for _ in range(3):
            for worker in sorted(survivors):
                db.write_sync(lambda c, w=worker: partitions.heartbeat(c, w, later, LEASE))  # type: ignore[misc]
        owned = db.read_sync(_owned)
    assert set(owned) == survivors
    assert {len(held) for held in owned.values()} <= {fair_share(len(survivors)), fair_share(len(survivors)) - 1}
    assert sum(len(held) for held in owned.values()) == PARTITIONS


def _play(db: Database, beats: list[tuple[str, float]]) -> dt.datetime:
    at = START
    for worker, seconds in beats:
        at += dt.timedelta(seconds=seconds)
        held = db.write_sync(lambda c, w=worker, t=at: partitions.heartbeat(c, w, t, LEASE))  # type: ignore[misc]
        owned, live = db.read_sync(lambda c: (_owned(c), _live(c)))
        assert set(held) == owned.get(worker, set())
        assert len(held) <= fair_share(live)
    return at
