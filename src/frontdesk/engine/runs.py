"""Runs as rows: start, load, advance and save them inside the writer's transaction."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection

from frontdesk.domain.model import RunStatus, WaitKind
from frontdesk.engine.interpreter import RunState, StepRecord, advance
from frontdesk.engine.runtime import DbRuntime
from frontdesk.steps.base import Signal, Wait
from frontdesk.store.database import conflicted, savepoint, wake
from frontdesk.store.sql import conversations, events, runs
from frontdesk.workflows.definition import Workflow, parse

log = logging.getLogger(__name__)


class VersionCache:
    """Parsed published versions by id. Versions are immutable, so entries never go stale."""

    def __init__(self) -> None:
        self._items: dict[int, Workflow] = {}

    def get(self, conn: Connection, version_id: int) -> Workflow:
        workflow = self._items.get(version_id)
        if workflow is None:
            workflow = self._items[version_id] = parse(runs.definition(conn, version_id))
        return workflow


@dataclass
class Run:
    id: int
    workflow_id: int
    version_id: int
    workflow: Workflow
    state: RunState
    contact_id: int | None
    conversation_id: int | None
    trigger: dict[str, Any]
    wait_until: dt.datetime | None
    steps_executed: int
    # The message.received event this run is answering, when a reply resumed it: the contact's
    # later messages answer its next question, however far behind the engine was.
    reply_event_id: int | None = None


def start_run(
    conn: Connection,
    cache: VersionCache,
    workflow_id: int,
    version_id: int,
    trigger_event_id: int | None,
    trigger: dict[str, Any],
    contact_id: int | None,
    conversation_id: int | None,
    now: dt.datetime,
    *,
    context: dict[str, Any] | None = None,
) -> bool:
    """Create and advance a run; False if this event already started one for this workflow.
    `context`: what conditions and templates see, when the caller has just read it.

    The run is stored once its first steps ran, as they left it: one INSERT instead of an INSERT
    and an UPDATE. Should the unique (workflow, trigger event) refuse it, its steps' effects go
    with the run's savepoint. The runs an engine job starts together are stored together, once
    the job's runs are done (`runs.add_started_later`): a refusal then undoes the whole job, which
    is done again a run at a time (`advance_together`)."""
    workflow = cache.get(conn, version_id)
    state = RunState(workflow.start)
    run = Run(0, workflow_id, version_id, workflow, state, contact_id, conversation_id, trigger, None, 0)  # id: stored

    def store(conn: Connection, run: Run, values: dict[str, Any], steps: list[dict[str, Any]]) -> None:
        row = runs.started_row(workflow_id, version_id, trigger_event_id, trigger, contact_id, now, values)
        if conn.info.get(_TOGETHER_KEY) and runs.add_started_later(conn, row, steps):
            return
        run_id = runs.add_started(conn, row)
        if run_id is None:
            raise _AlreadyStarted
        run.id = run_id
        _add_steps(conn, run_id, steps)

    try:
        _advance(conn, run, None, now, context, store)
    except _AlreadyStarted:
        return False
    return True


class _AlreadyStarted(Exception):
    """The trigger event already started a run of this workflow (processed twice)."""


def load_run(conn: Connection, cache: VersionCache, run_id: int) -> Run:
    row = runs.load(conn, run_id)
    assert row is not None, f"run {run_id} is gone"
    state = RunState(
        step_id=row.step_id,
        vars=dict(row.vars),
        step_state=dict(row.step_state),
        visits=dict(row.visits),
        status=RunStatus(row.status),
        wait=Wait(WaitKind(row.wait_kind)) if row.wait_kind else None,
    )
    return Run(
        row.id,
        row.workflow_id,
        row.version_id,
        cache.get(conn, row.version_id),
        state,
        row.contact_id,
        row.conversation_id,
        dict(row.trigger),
        row.wait_until,
        row.steps_executed,
    )


def resume(
    conn: Connection, run: Run, signal: Signal, now: dt.datetime, *, context: dict[str, Any] | None = None
) -> None:
    """Advance `run` with `signal` and save it. Whatever a step does is undone if saving fails."""
    _advance(conn, run, signal, now, context, _update)


_Store = Callable[[Connection, Run, dict[str, Any], list[dict[str, Any]]], None]


def _update(conn: Connection, run: Run, values: dict[str, Any], steps: list[dict[str, Any]]) -> None:
    runs.save(conn, run.id, values)
    _add_steps(conn, run.id, steps)


def _add_steps(conn: Connection, run_id: int, steps: list[dict[str, Any]]) -> None:
    if steps:  # in an engine job, with its other runs' (a run in its own savepoint writes its own)
        runs.add_steps(conn, [{"run_id": run_id, **step} for step in steps], later=bool(conn.info.get(_TOGETHER_KEY)))


def advance_together(conn: Connection, work: Callable[[], None]) -> None:
    """Do `work` (an engine job: the runs its events start and resume) under one savepoint for
    all its runs instead of one each: on PostgreSQL each SAVEPOINT and RELEASE is a round trip in
    the writers' turn, two per run. A run failing in it would have been rolled back to its own
    savepoint: the job is undone and done again, each run in its own, so the failed run leaves
    nothing of its steps and the others keep theirs. Runs advanced outside such a block (timers,
    HTTP results) keep a savepoint each."""
    try:
        with savepoint(conn):
            conn.info[_TOGETHER_KEY] = True
            try:
                work()
                _write_waiting(conn)
            finally:
                del conn.info[_TOGETHER_KEY]
    except (_RunFailed, runs.StartsFailed):  # StartsFailed: the job's new runs written before its end
        work()


def _write_waiting(conn: Connection) -> None:
    """What the runs of a job keep waiting: their conversations' changes (one UPDATE each, sent
    together) and their steps (one INSERT)."""
    try:
        conversations.write_waiting(conn)
        runs.write_steps(conn)
    except Exception as exc:  # whose write it was is not known: the job again, each run in its own savepoint
        if conflicted(exc):
            raise
        raise _RunFailed from exc


_TOGETHER_KEY = "frontdesk.runs_together"
_REPLY_WAITERS_KEY = "frontdesk.reply_waiters"


@contextlib.contextmanager
def replies_expected(conn: Connection, conversation_ids: Collection[int]) -> Iterator[None]:
    """Within the block (an engine job whose messages are in `conversation_ids`), `may_await_reply`
    answers from one read of where runs wait for a reply, and the runs the block leaves waiting for
    one (`_wait_values`): the message that opened a conversation, or any in a conversation where no
    run asked anything, costs no statement of its own. Writers take turns: nobody else changes runs."""
    found = (
        runs.reply_waiters_between(conn, min(conversation_ids), max(conversation_ids)) if conversation_ids else set()
    )
    conn.info[_REPLY_WAITERS_KEY] = found
    try:
        yield
    finally:
        conn.info.pop(_REPLY_WAITERS_KEY, None)


def may_await_reply(conn: Connection, conversation_id: int) -> bool:
    """Whether a run may be waiting for a reply in the conversation (outside `replies_expected`: yes)."""
    found = conn.info.get(_REPLY_WAITERS_KEY)
    return found is None or conversation_id in found


class _RunFailed(Exception):
    """A run failed inside `advance_together`: its job is done again, a savepoint per run."""


def _advance(
    conn: Connection, run: Run, signal: Signal, now: dt.datetime, context: dict[str, Any] | None, store: _Store
) -> None:
    runtime = DbRuntime(conn, run, now, context)
    if conn.info.get(_TOGETHER_KEY):
        try:
            records = _steps(conn, run, runtime, signal)
            _save(conn, run, records, now, store)
        except Exception as exc:  # _AlreadyStarted too: its steps' effects must go
            if conflicted(exc):
                raise
            raise _RunFailed from exc
        return
    try:
        with savepoint(conn):  # its rows, and the events and counts it kept for the commit
            records = _steps(conn, run, runtime, signal)
            _save(conn, run, records, now, store)
    except _AlreadyStarted:
        raise
    except Exception as exc:  # never let one run break the batch it is processed in
        if conflicted(exc):
            raise  # another process wrote what this batch read: the writer retries the batch
        log.exception("run failed to advance", extra={"run_id": run.id or None, "workflow_id": run.workflow_id})
        run.state.status, run.state.end_reason, run.state.wait = RunStatus.FAILED, f"engine error: {exc}", None
        _save(conn, run, [], now, store)


def _steps(conn: Connection, run: Run, runtime: DbRuntime, signal: Signal) -> list[StepRecord]:
    """Advance the run. The changes its steps made to conversations wait in an engine job to be
    merged (a greeting's, then the assignment's: one UPDATE). A run in a savepoint of its own
    writes them before its own rows, so a write that fails fails this run and no other; runs
    advanced together leave them to `_write_waiting`, which sends every run's at once."""
    records = advance(run.workflow, run.state, runtime, signal)
    if not conn.info.get(_TOGETHER_KEY):
        conversations.write_waiting(conn)
    return records


def _save(conn: Connection, run: Run, records: list[StepRecord], now: dt.datetime, store: _Store) -> None:
    state = run.state
    values: dict[str, Any] = {
        "status": state.status,
        "step_id": state.step_id,
        "vars": state.vars,
        "step_state": state.step_state,
        "visits": state.visits,
        "conversation_id": run.conversation_id,
        "wait_kind": None,
        "wait_until": None,
        "http_request": None,
        "lease_until": None,
        "steps_executed": run.steps_executed + len(records),
        "updated_at": now,
    }
    if state.wait is not None:
        values.update(_wait_values(conn, run, state.wait, now))
    else:
        values.update(ended_at=now, end_reason=state.end_reason)
    steps = [
        {
            "seq": run.steps_executed + i + 1,
            "step_id": r.step_id,
            "step_type": r.step_type,
            "branch": r.branch,
            "reason": r.reason,
            "output": r.output,
            "error": r.error,
            "waiting": r.waiting,
            "started_at": now,
            "duration_ms": r.duration_ms,
        }
        for i, r in enumerate(records)
    ]
    store(conn, run, values, steps)
    run.steps_executed += len(records)


def _wait_values(conn: Connection, run: Run, wait: Wait, now: dt.datetime) -> dict[str, Any]:
    values: dict[str, Any] = {"wait_kind": wait.kind}
    if wait.kind == WaitKind.HTTP:
        values["http_request"] = wait.request
        wake(conn, "http")
        return values
    if wait.keep_deadline:
        values["wait_until"] = run.wait_until  # a retry keeps the question's deadline
    elif wait.seconds is not None:
        values["wait_until"] = now + dt.timedelta(seconds=wait.seconds)
    wake(conn, "timers")
    if wait.kind == WaitKind.REPLY:
        expected = conn.info.get(_REPLY_WAITERS_KEY)
        if expected is not None and run.conversation_id is not None:
            expected.add(run.conversation_id)  # a later message of this job may answer it
        # Only messages the contact sends after this point answer the question: after the reply
        # being handled (so that answers sent in a row each count), else after every event so far.
        values["wait_after_event"] = run.reply_event_id or events.last_id(conn)
    return values
