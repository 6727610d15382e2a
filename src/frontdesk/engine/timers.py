"""Runs whose time has come: question timeouts, waits, queued starts. Due times are rows, so
a restart (or another process) fires what fell due while nobody was running."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from frontdesk.domain.model import WaitKind
from frontdesk.engine.runs import VersionCache, load_run, resume
from frontdesk.steps.base import Timeout
from frontdesk.store.sql import runs


def fire_due(conn: Connection, cache: VersionCache, now: dt.datetime, limit: int = 200) -> int:
    due = runs.due(conn, now, limit)
    for run_id, kind in due:
        run = load_run(conn, cache, run_id)
        if kind == WaitKind.START:
            run.state.step_id = run.workflow.start
            resume(conn, run, None, now)
        else:
            resume(conn, run, Timeout(), now)
    return len(due)


def next_due(conn: Connection) -> dt.datetime | None:
    return runs.next_due(conn)
