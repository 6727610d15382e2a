"""The reports' daily counters (ADR 0010, amended): per local day of one time zone, rolled up over
every subset of (channel, team, agent), and the zone they were counted in.

Written by the consumer in the transaction that folds the events (engine/reports.py); read by a
report whose range is whole days in that zone: one sweep of the key per sum under any filter."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import Connection, delete

from frontdesk.domain.report_days import ANY, DayKey
from frontdesk.store import rows
from frontdesk.store.sql.reports import Filters
from frontdesk.store.tables import report_days, report_days_zone

_KEY = ("metric", "channel_id", "team_id", "agent_id", "day", "label", "bucket")
_ADD = (
    f"INSERT INTO report_days ({', '.join(_KEY)}, count) VALUES ({', '.join('?' * (len(_KEY) + 1))})"
    f" ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET count = report_days.count + excluded.count"
)
_DROP_ZERO = f"DELETE FROM report_days WHERE {' AND '.join(f'{k} = ?' for k in _KEY)} AND count = 0"
_STATE = "SELECT time_zone, recounted_to FROM report_days_zone"
DIMENSIONS = ("channel_id", "team_id", "agent_id")


@dataclasses.dataclass(frozen=True, slots=True)
class Counted:
    """The zone the daily counters are counted in, and how far a recount from the facts has come:
    the last conversation counted (None: every one, the days are whole)."""

    time_zone: str
    recounted_to: int | None


def counted(conn: Connection) -> Counted | None:
    """None: not counted in any zone yet (a fresh or rebuilt database)."""
    row = rows.execute(conn, _STATE).fetchone()
    return None if row is None else Counted(str(row[0]), None if row[1] is None else int(row[1]))


def whole_in(conn: Connection, time_zone: str) -> bool:
    """Whether the daily counters hold every conversation, counted in `time_zone`."""
    return counted(conn) == Counted(time_zone, None)


def restart(conn: Connection, time_zone: str) -> None:
    """Forget the daily counters: they are counted again in `time_zone`, from the first conversation."""
    conn.execute(delete(report_days))
    conn.execute(delete(report_days_zone))
    rows.execute(conn, "INSERT INTO report_days_zone (time_zone, recounted_to) VALUES (?, 0)", (time_zone,))


def recounted_to(conn: Connection, conversation_id: int | None) -> None:
    rows.execute(conn, "UPDATE report_days_zone SET recounted_to = ?", (conversation_id,))


def add(conn: Connection, delta: Mapping[DayKey, int]) -> None:
    """Add `delta` to the daily counters; one that falls to 0 is removed (as a recount never makes it)."""
    changes = [(*key, count) for key, count in delta.items() if count != 0]
    rows.execute_many(conn, _ADD, changes)
    rows.execute_many(conn, _DROP_ZERO, [change[:-1] for change in changes if change[-1] < 0])


_GROUPED = frozenset({"day", "label", "bucket", *DIMENSIONS})


def sums_by(
    conn: Connection, days: range, filters: Filters, metrics: Collection[str], column: str, ids: Collection[int] = ()
) -> list[tuple[Any, ...]]:
    """(metric, value of `column`, count) summed over `days` (ordinals) under `filters`. `column`:
    "day", "label", "bucket", or a dimension ("team_id"…), whose values are then `ids` (every one
    that exists, and NONE): each is a seek to its own sweep of days. Written by hand: a report makes
    7 of these, and building them with SQLAlchemy cost about as much CPU as SQLite's reading."""
    assert column in _GROUPED, column
    where, params = _where(filters, metrics, column, ids)
    sql = (
        f"SELECT metric, {column}, sum(count) FROM report_days WHERE {' AND '.join(where)} AND day >= ? AND day < ?"
        f" GROUP BY metric, {column} ORDER BY metric, {column}"
    )
    found = rows.execute(conn, sql, (*params, days.start, days.stop))
    return [(metric, value, int(count)) for metric, value, count in found]


def _where(
    filters: Filters, metrics: Collection[str], column: str, ids: Collection[int]
) -> tuple[list[str], list[Any]]:
    where = [f"metric IN ({', '.join('?' * len(metrics))})"]
    params: list[Any] = list(metrics)
    for name, value in zip(DIMENSIONS, (filters.channel_id, filters.team_id, filters.agent_id), strict=True):
        if value is None and name == column:
            where.append(f"{name} IN ({', '.join('?' * len(ids))})")
            params += ids
        else:
            where.append(f"{name} = ?")
            params.append(ANY if value is None else value)
    return where, params


def buckets_by(
    conn: Connection, days: range, filters: Filters, metric: str, column: str, ids: Collection[int]
) -> list[tuple[int, int, int]]:
    """(value of `column`, bucket, count) of one metric summed over `days` under `filters`; `column` a
    dimension whose values are `ids` (the ratings by team or agent: their scores)."""
    assert column in DIMENSIONS, column
    where, params = _where(filters, (metric,), column, ids)
    sql = (
        f"SELECT {column}, bucket, sum(count) FROM report_days WHERE {' AND '.join(where)} AND day >= ? AND day < ?"
        f" GROUP BY {column}, bucket ORDER BY {column}, bucket"
    )
    found = rows.execute(conn, sql, (*params, days.start, days.stop))
    return [(int(value), int(bucket), int(count)) for value, bucket, count in found]
