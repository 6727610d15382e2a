"""Which engine worker owns which partition of the event log, and where each partition's cursor
stands (ADR 0009).

A worker holds a partition by a lease it renews about every second (`heartbeat`); the same call
registers the worker as alive, takes free or expired partitions up to its fair share
(ceil(N / live workers)) and gives back what it holds beyond it, so partitions move to a new
worker and away from a dead one within a lease. The consumer re-reads its partitions in its own
batch transaction (`owned`) and moves their cursors there (`advance`): a worker whose lease ran
out commits nothing for them. Writers take turns on both databases (SQLite's write lock,
PostgreSQL's advisory lock, ADR 0008): a takeover commits before a batch or after it, never
during it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import Connection

from frontdesk.domain.partitions import fair_share
from frontdesk.store import rows

_ALL = 'SELECT "partition", "position" FROM engine_partitions'
_OWNED = f"{_ALL} WHERE owner = ? AND lease_until > ?"
_ADVANCE = 'UPDATE engine_partitions SET "position" = ? WHERE "position" < ? AND "partition" IN ({})'
_ALIVE = (
    "INSERT INTO engine_workers (owner, lease_until, started_at) VALUES (?, ?, ?)"
    " ON CONFLICT (owner) DO UPDATE SET lease_until = excluded.lease_until"
)
_FORGET_DEAD = "DELETE FROM engine_workers WHERE lease_until < ?"
_LIVE = "SELECT count(*) FROM engine_workers"
_RENEW = "UPDATE engine_partitions SET lease_until = ?, heartbeat_at = ? WHERE owner = ?"
_MINE = 'SELECT "partition" FROM engine_partitions WHERE owner = ? ORDER BY "partition"'
_FREE = 'SELECT "partition" FROM engine_partitions WHERE owner IS NULL OR lease_until < ? ORDER BY "partition" LIMIT ?'
_TAKE = 'UPDATE engine_partitions SET owner = ?, lease_until = ?, heartbeat_at = ? WHERE "partition" IN ({})'
_GIVE_BACK = 'UPDATE engine_partitions SET owner = NULL, lease_until = NULL WHERE owner = ? AND "partition" IN ({})'
_LEAVE = "DELETE FROM engine_workers WHERE owner = ?"
_RELEASE_ALL = "UPDATE engine_partitions SET owner = NULL, lease_until = NULL WHERE owner = ?"


def _marks(count: int) -> str:
    return ", ".join("?" * count)


def positions(conn: Connection) -> dict[int, int]:
    """Every partition's cursor: for the one consumer of a database that runs no leases."""
    return dict(rows.execute(conn, _ALL).fetchall())


def owned(conn: Connection, owner: str, now: dt.datetime) -> dict[int, int]:
    """The cursors of the partitions `owner` holds a live lease on, read in the caller's transaction."""
    at = rows.dialect(conn).encode_time(now)
    return dict(rows.execute(conn, _OWNED, (owner, at)).fetchall())


def advance(conn: Connection, partitions: Collection[int], position: int) -> None:
    """Move the cursors of `partitions` up to `position` (none moves back)."""
    sql = _ADVANCE.format(_marks(len(partitions)))
    rows.execute(conn, sql, (position, position, *partitions))


def heartbeat(conn: Connection, owner: str, now: dt.datetime, lease: dt.timedelta) -> tuple[int, ...]:
    """Say `owner` is alive, renew its leases, take or give back partitions towards its fair
    share; the partitions it holds afterwards."""
    encode = rows.dialect(conn).encode_time
    at, until = encode(now), encode(now + lease)
    rows.execute(conn, _ALIVE, (owner, until, at))
    rows.execute(conn, _FORGET_DEAD, (at,))
    share = fair_share(int(rows.scalar(conn, _LIVE)))
    rows.execute(conn, _RENEW, (until, at, owner))
    mine = [p for (p,) in rows.execute(conn, _MINE, (owner,))]
    if len(mine) > share:
        extra = mine[share:]
        rows.execute(conn, _GIVE_BACK.format(_marks(len(extra))), (owner, *extra))
        return tuple(mine[:share])
    if len(mine) == share:
        return tuple(mine)
    free = [p for (p,) in rows.execute(conn, _FREE, (at, share - len(mine)))]
    if free:
        rows.execute(conn, _TAKE.format(_marks(len(free))), (owner, until, at, *free))
    return tuple(sorted(mine + free))


def release(conn: Connection, owner: str) -> None:
    """`owner` stops: its partitions are free at once, for the others' next heartbeat."""
    rows.execute(conn, _RELEASE_ALL, (owner,))
    rows.execute(conn, _LEAVE, (owner,))
