"""Workflow runs as rows, their step history, and the published workflows they start from.

Statuses and wait kinds are written into the statements as literals (from the enums), not bound:
SQLite's planner uses the partial index on waiting runs only when it sees `status = 'waiting'`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Connection

from frontdesk.domain.model import RunStatus, WaitKind
from frontdesk.domain.records import Run
from frontdesk.store import rows
from frontdesk.store.database import conflicted, is_store_failure, wake
from frontdesk.store.tables import workflow_run_steps, workflow_runs, workflow_versions

_WAITING = f"status = '{RunStatus.WAITING}'"
_TIMED = f"wait_kind IN ('{WaitKind.REPLY}', '{WaitKind.TIMER}', '{WaitKind.START}', '{WaitKind.QUEUE}')"
_REPLY_WAITER = (
    f"SELECT id FROM workflow_runs WHERE conversation_id = ? AND {_WAITING} AND wait_kind = '{WaitKind.REPLY}'"
    " AND wait_after_event < ? ORDER BY id LIMIT 1"
)
_REPLY_WAITERS_BETWEEN = (
    f"SELECT DISTINCT conversation_id FROM workflow_runs WHERE conversation_id BETWEEN ? AND ? AND {_WAITING}"
    f" AND wait_kind = '{WaitKind.REPLY}'"
)
_QUEUE_WAITERS = (
    f"SELECT id FROM workflow_runs WHERE conversation_id = ? AND {_WAITING} AND wait_kind = '{WaitKind.QUEUE}'"
)
_DUE = (
    f"SELECT id, wait_kind FROM workflow_runs WHERE {_WAITING} AND wait_until <= ? AND {_TIMED}"
    " ORDER BY wait_until LIMIT ?"
)
_NEXT_DUE = f"SELECT min(wait_until) FROM workflow_runs WHERE {_WAITING} AND {_TIMED}"
_CALL_COLUMNS = ("id", "step_id", "visits", "http_request")
_CALLS = (
    f"SELECT {', '.join(_CALL_COLUMNS)} FROM workflow_runs WHERE {_WAITING} AND wait_kind = '{WaitKind.HTTP}'"
    " AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ?"
)
_WAITS_FOR_CALL = (
    f"SELECT 1 FROM workflow_runs WHERE id = ? AND {_WAITING} AND wait_kind = '{WaitKind.HTTP}' AND step_id = ?"
)
# A cancelled run's history gains the step it waited at as skipped (its `seq` returned here).
_CANCEL = (
    f"UPDATE workflow_runs SET status = '{RunStatus.CANCELLED}', end_reason = ?, ended_at = ?, updated_at = ?,"
    " wait_kind = NULL, wait_until = NULL, http_request = NULL,"
    " steps_executed = steps_executed + CASE WHEN step_id IS NULL THEN 0 ELSE 1 END"
    f" WHERE conversation_id = ? AND {_WAITING} RETURNING id, step_id, steps_executed"
)
_STEP_TYPE = "SELECT step_type FROM workflow_run_steps WHERE run_id = ? AND seq = ?"
_PUBLISHED = (
    "SELECT id, name, published_version_id, trigger_event FROM workflows"
    " WHERE enabled AND published_version_id IS NOT NULL"
)


class PublishedWorkflow(NamedTuple):
    id: int
    name: str
    version_id: int
    trigger_event: str | None


class PendingCall(NamedTuple):
    """An http_request step's call waiting to be made."""

    run_id: int
    step_id: str
    visits: dict[str, int]
    request: dict[str, Any]


def published_workflows(conn: Connection) -> list[PublishedWorkflow]:
    """The enabled workflows that have a published version: the ones a run may start from."""
    return [PublishedWorkflow(*row) for row in rows.execute(conn, _PUBLISHED)]


def definition(conn: Connection, version_id: int) -> dict[str, Any]:
    """A published version's workflow definition (immutable once written)."""
    found = rows.value(conn, workflow_versions, "definition", version_id)
    if found is None:
        raise LookupError(f"workflow version {version_id} is gone")
    return dict(found)


def _new(
    workflow_id: int,
    version_id: int,
    trigger: dict[str, Any],
    contact_id: int | None,
    conversation_id: int | None,
    now: dt.datetime,
) -> dict[str, Any]:
    return {
        "workflow_id": workflow_id,
        "version_id": version_id,
        "trigger": trigger,
        "contact_id": contact_id,
        "conversation_id": conversation_id,
        "vars": {},
        "step_state": {},
        "visits": {},
        "started_at": now,
        "updated_at": now,
    }


def started_row(
    workflow_id: int,
    version_id: int,
    trigger_event_id: int | None,
    trigger: dict[str, Any],
    contact_id: int | None,
    now: dt.datetime,
    state: Mapping[str, Any],
) -> dict[str, Any]:
    """The row of a run an event started, stored once its first steps ran, in `state` (the columns
    `save` writes)."""
    row = _new(workflow_id, version_id, trigger, contact_id, None, now)
    row.update(state, trigger_event_id=trigger_event_id)
    return row


def add_started(conn: Connection, row: Mapping[str, Any]) -> int | None:
    """Store a `started_row`: its id, or None if its event already started a run of this workflow
    (nothing is written)."""
    return rows.insert_new(conn, workflow_runs, row)


def add_started_later(conn: Connection, row: Mapping[str, Any], steps: Sequence[Mapping[str, Any]]) -> bool:
    """`add_started` and `add_steps` for a run an engine job started, kept waiting (`rows.pending`)
    to be written with the job's other new runs: one INSERT for all of them, one for their steps
    (`write_steps`, or before a statement naming either table). False outside such a job: the
    caller writes it now. A run an event had already started (the job done again) makes that
    INSERT fail on the unique (workflow, trigger event), which undoes the job."""
    started = rows.pending(conn, ("started runs",), _Started)
    if started is None:
        return False
    started.runs.append({column: row.get(column) for column in _STARTED_COLUMNS})  # one INSERT: the same columns
    started.steps.append(steps)
    return True


_STARTED_COLUMNS = tuple(c.name for c in workflow_runs.columns if c.name != "id")


@dataclass(slots=True)
class _Started:
    """The runs an engine job started, and each one's steps (their `run_id` set once it is known)."""

    runs: list[dict[str, Any]] = field(default_factory=list)
    steps: list[Sequence[Mapping[str, Any]]] = field(default_factory=list)
    tables: tuple[str, ...] = (workflow_runs.name, workflow_run_steps.name)

    def write(self, conn: Connection) -> None:
        try:
            ids = rows.insert_many_ids(conn, workflow_runs, self.runs)
        except Exception as exc:
            if conflicted(exc) or not is_store_failure(exc):
                raise
            raise StartsFailed from exc
        steps = [{"run_id": run_id, **step} for run_id, kept in zip(ids, self.steps, strict=True) for step in kept]
        if steps:
            rows.insert_many(conn, workflow_run_steps, steps)


class StartsFailed(Exception):
    """The runs an engine job started could not be written together (an event had started one of
    them already): which one is not known, so the job is done again a run at a time."""


def queue(
    conn: Connection,
    workflow_id: int,
    version_id: int,
    trigger: dict[str, Any],
    contact_id: int | None,
    conversation_id: int | None,
    now: dt.datetime,
) -> int:
    """A run the timers start from its first step on their next tick (manual starts, webhooks,
    `trigger_workflow`); they are woken once the transaction commits."""
    row = _new(workflow_id, version_id, trigger, contact_id, conversation_id, now)
    row.update(status=RunStatus.WAITING, step_id=None, wait_kind=WaitKind.START, wait_until=now)
    run_id = rows.insert(conn, workflow_runs, row)
    wake(conn, "timers")
    return run_id


def load(conn: Connection, run_id: int) -> Run | None:
    row = rows.by_id(conn, workflow_runs, run_id)
    return None if row is None else Run(**row)


def save(conn: Connection, run_id: int, values: Mapping[str, Any]) -> None:
    """Write a run's state after it advanced (the engine decides which columns)."""
    rows.update_by_id(conn, workflow_runs, run_id, values)


def add_steps(conn: Connection, steps: Sequence[Mapping[str, Any]], *, later: bool = False) -> None:
    """Append executed steps to their runs' history; `later`: with the other runs' of the engine's
    job, in one statement (`rows.insert_later`, written by `write_steps` or before any statement
    naming the table)."""
    (rows.insert_later if later else rows.insert_many)(conn, workflow_run_steps, steps)


def write_steps(conn: Connection) -> None:
    """Write the steps `add_steps(…, later=True)` keeps waiting, now."""
    rows.write_deferred(conn, workflow_run_steps)


def waiting_for_reply(conn: Connection, conversation_id: int, event_id: int) -> int | None:
    """The run whose question the contact's message (event `event_id`) answers, if any."""
    found = rows.scalar(conn, _REPLY_WAITER, (conversation_id, event_id))
    return None if found is None else int(found)


def reply_waiters_between(conn: Connection, first: int, last: int) -> set[int]:
    """The conversations, of ids `first` to `last`, where a run waits for the contact's reply."""
    return {conversation_id for (conversation_id,) in rows.execute(conn, _REPLY_WAITERS_BETWEEN, (first, last))}


def waiting_for_agent(conn: Connection, conversation_id: int) -> list[int]:
    """The runs that left this conversation in a team's queue."""
    return [run_id for (run_id,) in rows.execute(conn, _QUEUE_WAITERS, (conversation_id,))]


def cancel_waiting(conn: Connection, conversation_id: int, reason: str, now: dt.datetime) -> int:
    """End every waiting run of the conversation; how many. Each is recorded as skipped at the
    step it waited at (the run's history and the workflow funnel's "abandoned", ADR 0011)."""
    encode = rows.dialect(conn).encode_time
    ended = rows.execute(conn, _CANCEL, (reason, encode(now), encode(now), conversation_id)).fetchall()
    skipped = [
        {
            "run_id": run_id,
            "seq": seq,
            "step_id": step_id,
            "step_type": rows.scalar(conn, _STEP_TYPE, (run_id, seq - 1)) or "",
            "branch": None,
            "reason": reason,
            "output": {"skipped": True},
            "error": None,
            "waiting": None,
            "started_at": now,
            "duration_ms": 0,
        }
        for run_id, step_id, seq in ended
        if step_id is not None  # a queued start never entered a step
    ]
    add_steps(conn, skipped)
    return len(ended)


def due(conn: Connection, now: dt.datetime, limit: int) -> list[tuple[int, WaitKind]]:
    """Waiting runs whose time has come (timeouts, waits, queued starts), the earliest first; on
    PostgreSQL locked until the caller's transaction ends, and those another engine is firing left
    to it."""
    dialect = rows.dialect(conn)
    found = rows.execute(conn, _DUE + dialect.skip_locked, (dialect.encode_time(now), limit))
    return [(run_id, WaitKind(kind)) for run_id, kind in found]


def next_due(conn: Connection) -> dt.datetime | None:
    return rows.dialect(conn).decode_time(rows.scalar(conn, _NEXT_DUE))


def calls_to_claim(conn: Connection, now: dt.datetime, limit: int) -> list[PendingCall]:
    """Runs waiting on an HTTP call nobody holds a lease on, oldest first (those another engine is
    claiming right now left out, on PostgreSQL)."""
    dialect = rows.dialect(conn)
    found = rows.execute(conn, _CALLS + dialect.skip_locked, (dialect.encode_time(now), limit))
    decoded = (rows.decode(conn, workflow_runs, _CALL_COLUMNS, row) for row in found)
    return [PendingCall(r["id"], r["step_id"], r["visits"], r["http_request"]) for r in decoded]


def lease_call(conn: Connection, run_id: int, until: dt.datetime) -> None:
    """Hold the run's call until `until`: a crash before its answer lands makes it again then."""
    rows.update_by_id(conn, workflow_runs, run_id, {"lease_until": until})


def waits_for_call(conn: Connection, run_id: int, step_id: str) -> bool:
    """Whether the run still waits on the call its step `step_id` made (not cancelled meanwhile)."""
    return rows.scalar(conn, _WAITS_FOR_CALL, (run_id, step_id)) is not None
