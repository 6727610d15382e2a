"""Runs whose time has come: question timeouts, waits, queued starts. Due times are rows, so
a restart (or another process) fires what fell due while nobody was running."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, func, select

from frontdesk.engine.runs import VersionCache, load_run, resume
from frontdesk.steps.base import Timeout
from frontdesk.store.tables import WAITING, workflow_runs

TIMED = ("reply", "timer", "start", "queue")


def fire_due(conn: Connection, cache: VersionCache, now: dt.datetime, limit: int = 200) -> int:
    due = conn.execute(
        select(workflow_runs.c.id, workflow_runs.c.wait_kind)
        .where(
            workflow_runs.c.status == WAITING,
            workflow_runs.c.wait_until <= now,
            workflow_runs.c.wait_kind.in_(TIMED),
        )
        .order_by(workflow_runs.c.wait_until)
        .limit(limit)
    ).all()
    for run_id, kind in due:
        run = load_run(conn, cache, run_id)
        if kind == "start":
            run.state.step_id = run.workflow.start
            resume(conn, run, None, now)
        else:
            resume(conn, run, Timeout(), now)
    return len(due)


def next_due(conn: Connection) -> dt.datetime | None:
    return conn.execute(
        select(func.min(workflow_runs.c.wait_until)).where(
            workflow_runs.c.status == WAITING, workflow_runs.c.wait_kind.in_(TIMED)
        )
    ).scalar()
