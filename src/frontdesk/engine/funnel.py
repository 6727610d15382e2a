"""Folds the recorded run steps into the workflow funnel (ADR 0011), with the reports' discipline:
the counters, the runs' waits and the cursor change in one writer transaction, so a step counts
exactly once across crashes and restarts.

The run steps are a log already (rows appended in the run's own transaction, never changed), so
the funnel adds nothing to the hot path: its cursor runs over workflow_run_steps' ids, which
commit in id order while writers take turns (ADR 0008)."""

from __future__ import annotations

from sqlalchemy import Connection

from frontdesk.domain.funnel import fold_all
from frontdesk.store.sql import funnel

STEP_BATCH = 1000


def fold_steps(conn: Connection, limit: int = STEP_BATCH) -> int:
    """Fold up to `limit` run steps after the cursor into the funnel; how many were read."""
    batch = funnel.records_after(conn, funnel.position(conn), limit)
    if not batch:
        return 0
    before = funnel.waits(conn, {r.run_id for r in batch})
    after = dict(before)
    funnel.add_counts(conn, fold_all(after, batch))
    funnel.save_waits(conn, before, after)
    funnel.advance(conn, batch[-1].id)
    return len(batch)
