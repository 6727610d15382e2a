"""Queue a run to start on the engine's next tick (manual starts, webhooks, trigger_workflow)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert

from frontdesk.store.database import wake
from frontdesk.store.tables import workflow_runs


def new_run_row(
    workflow_id: int,
    version_id: int,
    trigger: dict[str, Any],
    contact_id: int | None,
    conversation_id: int | None,
    now: dt.datetime,
    **state: Any,
) -> dict[str, Any]:
    """The values of a fresh run row; `state` sets status, step and wait."""
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
        **state,
    }


def queue_run(
    conn: Connection,
    workflow_id: int,
    version_id: int,
    trigger: dict[str, Any],
    contact_id: int | None,
    conversation_id: int | None,
    now: dt.datetime,
) -> int:
    row = new_run_row(
        workflow_id, version_id, trigger, contact_id, conversation_id, now,
        status="waiting", step_id=None, wait_kind="start", wait_until=now,
    )  # fmt: skip
    run_id = conn.execute(insert(workflow_runs).values(**row)).inserted_primary_key[0]
    wake(conn, "timers")
    return int(run_id)
