"""Walks a run through its workflow's graph until it waits or ends. Pure: all effects go through
the Runtime, so the same code serves the engine (database) and the dry run (memory)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from frontdesk.domain.model import RunStatus
from frontdesk.steps import STEP_TYPES
from frontdesk.steps.base import Outcome, Runtime, Signal, Wait
from frontdesk.workflows.definition import Workflow

MAX_STEPS_PER_ADVANCE = 200  # validation forbids unguarded loops; this is the belt to those braces


@dataclass
class RunState:
    """What a run must remember between steps; the engine stores it as a row."""

    step_id: str | None
    vars: dict[str, Any] = field(default_factory=dict)
    step_state: dict[str, Any] = field(default_factory=dict)
    visits: dict[str, int] = field(default_factory=dict)
    status: RunStatus = RunStatus.RUNNING
    wait: Wait | None = None
    end_reason: str | None = None


@dataclass
class StepRecord:
    """One executed step, as the run history shows it."""

    step_id: str
    step_type: str
    branch: str | None
    reason: str
    output: dict[str, Any]
    error: str | None
    waiting: str | None
    duration_ms: int


class StepFailed(Exception):
    """A step could not do its job (bad template data, invalid field value...)."""


class RunCancelled(Exception):
    """What the run works on is gone (its conversation was closed while the engine was behind):
    the run ends `cancelled`, the step recorded as skipped with this reason — nothing failed."""


def advance(workflow: Workflow, state: RunState, runtime: Runtime, signal: Signal = None) -> list[StepRecord]:
    """Execute steps from `state.step_id`, delivering `signal` to it first; mutate `state`."""
    records: list[StepRecord] = []
    state.status = RunStatus.RUNNING
    state.wait = None
    while state.step_id is not None:
        if len(records) >= MAX_STEPS_PER_ADVANCE:
            _end(state, RunStatus.FAILED, f"more than {MAX_STEPS_PER_ADVANCE} steps without waiting")
            return records
        step = workflow.step(state.step_id)
        if signal is None:
            state.visits[step.id] = state.visits.get(step.id, 0) + 1
            state.step_state = {}
        runtime.step_state = state.step_state
        started = time.perf_counter()
        try:
            outcome = STEP_TYPES[step.type].execute(step, runtime, signal)
        except RunCancelled as exc:
            records.append(_skipped(step.id, step.type, str(exc), started))
            _end(state, RunStatus.CANCELLED, str(exc))
            return records
        except Exception as exc:  # a step's failure ends its run, never the engine
            if runtime.is_store_failure(exc):
                raise  # the transaction is spoilt (PostgreSQL) or must be retried: not the step's doing
            records.append(_record(step.id, step.type, Outcome(branch=""), started, error=_describe(exc)))
            _end(state, RunStatus.FAILED, f"step {step.id!r} failed: {_describe(exc)}")
            return records
        signal = None
        if outcome.wait is not None:
            state.status, state.wait = RunStatus.WAITING, outcome.wait
            state.step_state = outcome.state if outcome.state is not None else state.step_state
            records.append(_record(step.id, step.type, outcome, started, waiting=outcome.wait.kind))
            return records
        records.append(_record(step.id, step.type, outcome, started))
        state.step_id = step.targets().get(outcome.branch)
        if state.step_id is None:
            _end(state, RunStatus.COMPLETED, f"ended after step {step.id!r} ({outcome.branch})")
    return records


def _end(state: RunState, status: RunStatus, reason: str) -> None:
    state.status, state.end_reason, state.wait = status, reason, None


def _describe(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message)


def _skipped(step_id: str, step_type: str, reason: str, started: float) -> StepRecord:
    """A step that did not act: no branch taken, no error, the reason why."""
    duration = int((time.perf_counter() - started) * 1000)
    return StepRecord(step_id, step_type, None, reason, {"skipped": True}, None, None, duration)


def _record(
    step_id: str, step_type: str, outcome: Outcome, started: float, error: str | None = None, waiting: str | None = None
) -> StepRecord:
    return StepRecord(
        step_id=step_id,
        step_type=step_type,
        branch=None if error or waiting else outcome.branch,
        reason=outcome.reason,
        output=outcome.output,
        error=error,
        waiting=waiting,
        duration_ms=int((time.perf_counter() - started) * 1000),
    )
