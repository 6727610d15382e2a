"""The workflow funnel's model (ADR 0011): what each recorded run step adds to the counters per
(workflow version, hour the run started, step, metric, label, duration bucket).

Pure: the consumer (engine/funnel.py) and `frontdesk reports rebuild` fold the run steps in id
order with `fold`, record by record, so where a batch ends changes nothing. A run entering a step
counts `entered`; it leaves it once: by a branch (`left`, the label), an error (`failed`) or its
conversation closing (`abandoned`), and the time it spent there goes into the duration buckets of
ADR 0010 (`time`). A step that waits (a question, a timer, the queue) is recorded again when the
run resumes; `Waiting` remembers, between batches, where a run waits and since when."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from enum import StrEnum

from frontdesk.domain.reports import bucket_of, hour_of


class Measure(StrEnum):
    STARTED = "started"  # a run's first step (step id '')
    ENTERED = "entered"  # a run came to the step (a loop back counts again)
    LEFT = "left"  # label: the branch taken
    FAILED = "failed"  # the step failed: the run ended there
    ABANDONED = "abandoned"  # the conversation was closed while the run waited there (or before the step ran)
    TIME = "time"  # bucket: how long the run stayed, entry to exit


# (version id, hour the run started since the epoch, step id, measure, label, bucket)
Key = tuple[int, int, str, str, str, int]


@dataclasses.dataclass(frozen=True, slots=True)
class Record:
    """One row of workflow_run_steps, with what the funnel needs of its run."""

    id: int
    run_id: int
    seq: int
    version_id: int
    run_started_at: dt.datetime
    step_id: str
    branch: str | None
    error: str | None
    waiting: str | None
    at: dt.datetime
    duration_ms: int


@dataclasses.dataclass(frozen=True, slots=True)
class Waiting:
    """A run waiting at a step since a time (its first record there)."""

    run_id: int
    step_id: str
    since: dt.datetime


def fold(waiting: dict[int, Waiting], record: Record) -> Counter[Key]:
    """What `record` adds to the counters; updates `waiting` (where runs wait) in place."""
    found: Counter[Key] = Counter()
    hour = hour_of(record.run_started_at)

    def add(step: str, measure: Measure, label: str = "", bucket: int = 0) -> None:
        found[(record.version_id, hour, step, measure, label, bucket)] += 1

    if record.seq == 1:
        add("", Measure.STARTED)
    before = waiting.pop(record.run_id, None)
    stayed = before is not None and before.step_id == record.step_id
    if not stayed:
        add(record.step_id, Measure.ENTERED)
    if record.waiting is not None:
        since = before.since if before is not None and stayed else record.at
        waiting[record.run_id] = Waiting(record.run_id, record.step_id, since)
        return found
    if record.error is not None:
        add(record.step_id, Measure.FAILED)
    elif record.branch is not None:
        add(record.step_id, Measure.LEFT, record.branch)
    else:
        add(record.step_id, Measure.ABANDONED)
    seconds = (record.at - before.since).total_seconds() if before is not None and stayed else 0.0
    seconds = max(seconds, record.duration_ms / 1000)
    add(record.step_id, Measure.TIME, bucket=bucket_of(seconds))
    return found


def fold_all(waiting: dict[int, Waiting], records: list[Record]) -> Counter[Key]:
    """The counters' change for `records` in id order."""
    total: Counter[Key] = Counter()
    for record in records:
        total.update(fold(waiting, record))
    return total
