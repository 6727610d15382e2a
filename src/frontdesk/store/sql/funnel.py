"""The workflow funnel's rollups (ADR 0011): counters per version, hour, step and measure, the runs
waiting at a step, and where the fold stands in workflow_run_steps (engine_cursors' "funnel" row).

The fold reads a batch of run steps after its cursor, the waits of their runs, writes both back
with the counters' changes and moves the cursor in one writer transaction (engine/funnel.py)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlalchemy import Connection, delete, func, select

from frontdesk.domain.funnel import Key, Record, Waiting
from frontdesk.store import rows
from frontdesk.store.tables import engine_cursors, report_funnel, report_run_waits

CURSOR = "funnel"
_RECORDS = (
    "SELECT s.id, s.run_id, s.seq, r.version_id, r.started_at, s.step_id, s.branch, s.error, s.waiting,"
    " s.started_at, s.duration_ms FROM workflow_run_steps s JOIN workflow_runs r ON r.id = s.run_id"
    " WHERE s.id > ? ORDER BY s.id LIMIT ?"
)
_KEY = ("version_id", "hour", "step_id", "metric", "label", "bucket")
_ADD = (
    f"INSERT INTO report_funnel ({', '.join(_KEY)}, count) VALUES ({', '.join('?' * (len(_KEY) + 1))})"
    f" ON CONFLICT ({', '.join(_KEY)}) DO UPDATE SET count = report_funnel.count + excluded.count"
)
_SAVE_WAIT = (
    "INSERT INTO report_run_waits (run_id, step_id, since) VALUES (?, ?, ?)"
    " ON CONFLICT (run_id) DO UPDATE SET step_id = excluded.step_id, since = excluded.since"
)
_DROP_WAIT = "DELETE FROM report_run_waits WHERE run_id = ?"
_POSITION = f"SELECT \"position\" FROM engine_cursors WHERE name = '{CURSOR}'"
_ADVANCE = (
    f"INSERT INTO engine_cursors (name, \"position\") VALUES ('{CURSOR}', ?)"
    ' ON CONFLICT (name) DO UPDATE SET "position" = excluded."position"'
)


def position(conn: Connection) -> int:
    """The id of the last run step the funnel includes (0: none yet)."""
    return int(rows.scalar(conn, _POSITION) or 0)


def advance(conn: Connection, step_row_id: int) -> None:
    rows.execute(conn, _ADVANCE, (step_row_id,))


def records_after(conn: Connection, after: int, limit: int) -> list[Record]:
    """Up to `limit` run steps after `after`, oldest first, each with its run's version and start."""
    time = rows.dialect(conn).decode_time
    found = []
    for row_id, run_id, seq, version_id, started, step_id, branch, error, waiting, at, ms in rows.execute(
        conn, _RECORDS, (after, limit)
    ):
        run_started, step_at = time(started), time(at)
        assert run_started is not None and step_at is not None  # NOT NULL columns
        found.append(Record(row_id, run_id, seq, version_id, run_started, step_id, branch, error, waiting, step_at, ms))
    return found


def waits(conn: Connection, run_ids: Collection[int]) -> dict[int, Waiting]:
    if not run_ids:
        return {}
    marks = ", ".join("?" * len(run_ids))
    found = rows.select_all(conn, report_run_waits, f"run_id IN ({marks})", run_ids)
    return {row["run_id"]: Waiting(**row) for row in found}


def save_waits(conn: Connection, before: Mapping[int, Waiting], after: Mapping[int, Waiting]) -> None:
    """Write the waits that changed; drop those of runs that left their step."""
    encode = rows.dialect(conn).encode_time
    for run_id, wait in after.items():
        if before.get(run_id) != wait:
            rows.execute(conn, _SAVE_WAIT, (run_id, wait.step_id, encode(wait.since)))
    for run_id in before.keys() - after.keys():
        rows.execute(conn, _DROP_WAIT, (run_id,))


def add_counts(conn: Connection, delta: Mapping[Key, int]) -> None:
    """Add `delta` to the counters (the fold only adds: a run step never changes once recorded)."""
    for key, count in delta.items():
        if count:
            rows.execute(conn, _ADD, (*key, count))


def clear(conn: Connection) -> None:
    """Forget the funnel and put its cursor back at the first run step (a rebuild)."""
    conn.execute(delete(report_funnel))
    conn.execute(delete(report_run_waits))
    conn.execute(delete(engine_cursors).where(engine_cursors.c.name == CURSOR))


def sums(conn: Connection, version_id: int, hours: range) -> list[tuple[str, str, str, int, int]]:
    """(step id, measure, label, bucket, count) of one version over the runs started in `hours`."""
    c = report_funnel.c
    query = (
        select(c.step_id, c.metric, c.label, c.bucket, func.sum(c.count))
        .where(c.version_id == version_id, c.hour >= hours.start, c.hour < hours.stop)
        .group_by(c.step_id, c.metric, c.label, c.bucket)
        .order_by(c.step_id, c.metric, c.label, c.bucket)
    )
    return [(step, metric, label, int(bucket), int(n)) for step, metric, label, bucket, n in conn.execute(query)]
