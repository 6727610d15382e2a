"""The reports' rollups (ADR 0010): the facts per conversation, the counters per hour, and where
their consumer stands in the event log (engine_cursors' "reports" row).

The consumer reads facts, writes the changed ones, adds its counters' changes and moves the
cursor in one writer transaction (engine/reports.py). The figures are read by a few grouped
sums over the counters, never over the facts or the conversations."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.sql.elements import ColumnElement

from frontdesk.domain.reports import Fact, Key
from frontdesk.store import rows
from frontdesk.store.tables import (
    agents,
    channels,
    engine_cursors,
    report_agent_presence,
    report_agent_time,
    report_conversations,
    report_counts,
    report_days,
    report_days_zone,
    teams,
)

CURSOR = "reports"
_FACT_COLUMNS = tuple(field.name for field in dataclasses.fields(Fact))
_SAVE_FACT = (
    f"INSERT INTO report_conversations ({', '.join(_FACT_COLUMNS)}) VALUES ({', '.join('?' * len(_FACT_COLUMNS))})"
    " ON CONFLICT (conversation_id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _FACT_COLUMNS if c != "conversation_id")
)
_KEY = ("metric", "hour", "channel_id", "team_id", "agent_id", "label", "bucket")
_ADD = (
    f"INSERT INTO report_counts ({', '.join(_KEY)}, count) VALUES ({', '.join('?' * (len(_KEY) + 1))})"
    f" ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET count = report_counts.count + excluded.count"
)
_DROP_ZERO = f"DELETE FROM report_counts WHERE {' AND '.join(f'{k} = ?' for k in _KEY)} AND count = 0"
_POSITION = "SELECT \"position\" FROM engine_cursors WHERE name = 'reports'"
_ADVANCE = (
    "INSERT INTO engine_cursors (name, \"position\") VALUES ('reports', ?)"
    ' ON CONFLICT (name) DO UPDATE SET "position" = excluded."position"'
)


def position(conn: Connection) -> int:
    """The id of the last event the rollups include (0: none yet; the row is written by the first batch)."""
    return int(rows.scalar(conn, _POSITION) or 0)


def advance(conn: Connection, event_id: int) -> None:
    rows.execute(conn, _ADVANCE, (event_id,))


def facts(conn: Connection, conversation_ids: Collection[int]) -> dict[int, Fact]:
    if not conversation_ids:
        return {}
    marks = ", ".join("?" * len(conversation_ids))
    found = rows.select_all(conn, report_conversations, f"conversation_id IN ({marks})", conversation_ids)
    return {row["conversation_id"]: Fact(**row) for row in found}


def facts_after(conn: Connection, conversation_id: int, limit: int) -> list[Fact]:
    """Up to `limit` facts of the conversations after `conversation_id`, in its order."""
    found = rows.select_all(
        conn, report_conversations, "conversation_id > ? ORDER BY conversation_id LIMIT ?", (conversation_id, limit)
    )
    return [Fact(**row) for row in found]


def save_facts(conn: Connection, changed: Iterable[Fact]) -> None:
    """One statement run once per fact: on PostgreSQL psycopg pipelines them, one round trip in all."""
    codec = rows.dialect(conn).codec(report_conversations)
    rows.execute_many(conn, _SAVE_FACT, [codec.encode(rows.fields_of(fact)) for fact in changed])


def add_counts(conn: Connection, delta: Mapping[Key, int]) -> None:
    """Add `delta` to the counters; a counter that falls to 0 is removed (as a rebuild never makes it)."""
    for key, count in delta.items():
        if count == 0:
            continue
        rows.execute(conn, _ADD, (*key, count))
        if count < 0:
            rows.execute(conn, _DROP_ZERO, key)


def counts_of(conn: Connection, metric: str) -> dict[Key, int]:
    """Every hourly counter of one metric (the ratings', to count their days again)."""
    query = select(*(report_counts.c[k] for k in _KEY), report_counts.c.count).where(report_counts.c.metric == metric)
    return {tuple(row[:-1]): int(row[-1]) for row in conn.execute(query)}


def clear(conn: Connection) -> None:
    """Forget every rollup (the daily counters and their zone, the agents' time too) and put the cursor back at the
    log's start (a rebuild)."""
    conn.execute(delete(report_counts))
    conn.execute(delete(report_conversations))
    conn.execute(delete(engine_cursors).where(engine_cursors.c.name == CURSOR))
    conn.execute(delete(report_days))
    conn.execute(delete(report_days_zone))
    conn.execute(delete(report_agent_time))
    conn.execute(delete(report_agent_presence))


# -- figures ---------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True, slots=True)
class Filters:
    """The team, channel and agent a report is narrowed to (None: any)."""

    team_id: int | None = None
    channel_id: int | None = None
    agent_id: int | None = None


def _where(hours: range, filters: Filters, metrics: Collection[str]) -> list[ColumnElement[bool]]:
    c = report_counts.c
    found = [c.metric.in_(list(metrics)), c.hour >= hours.start, c.hour < hours.stop]
    for column, value in (
        (c.team_id, filters.team_id),
        (c.channel_id, filters.channel_id),
        (c.agent_id, filters.agent_id),
    ):
        if value is not None:
            found.append(column == value)
    return found


def sums_by(
    conn: Connection, hours: range, filters: Filters, metrics: Collection[str], column: str
) -> list[tuple[Any, ...]]:
    """(metric, value of `column`, count) summed over the counters of `hours` (UTC, ADR 0010) under `filters`."""
    grouped = report_counts.c[column]
    query = (
        select(report_counts.c.metric, grouped, func.sum(report_counts.c.count))
        .where(*_where(hours, filters, metrics))
        .group_by(report_counts.c.metric, grouped)
        .order_by(report_counts.c.metric, grouped)
    )
    return [(metric, value, int(count)) for metric, value, count in conn.execute(query)]


def buckets_by(
    conn: Connection, hours: range, filters: Filters, metric: str, column: str
) -> list[tuple[int, int, int]]:
    """(value of `column`, bucket, count) of one metric summed over `hours` under `filters`."""
    grouped, bucket = report_counts.c[column], report_counts.c.bucket
    query = (
        select(grouped, bucket, func.sum(report_counts.c.count))
        .where(*_where(hours, filters, (metric,)))
        .group_by(grouped, bucket)
        .order_by(grouped, bucket)
    )
    return [(int(value), int(b), int(count)) for value, b, count in conn.execute(query)]


def names(conn: Connection) -> dict[str, dict[int, str]]:
    """The names of the channels, teams and agents a report may show or filter by."""
    return {
        kind: {row.id: row.name for row in conn.execute(select(table.c.id, table.c.name))}
        for kind, table in (("channel", channels), ("team", teams), ("agent", agents))
    }
