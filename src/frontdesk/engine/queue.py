"""Queue a run to start on the engine's next tick (manual starts, webhooks, trigger_workflow)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert

from frontdesk.store.database import wake
from frontdesk.store.tables import workflow_runs


def queue_run(
    conn: Connection,
    workflow_id: int,
    version_id: int,
    trigger: dict[str, Any],
    contact_id: int | None,
    conversation_id: int | None,
    now: dt.datetime,
) -> int:
    run_id = conn.execute(
        insert(workflow_runs).values(
            workflow_id=workflow_id,
            version_id=version_id,
            trigger=trigger,
            contact_id=contact_id,
            conversation_id=conversation_id,
            status="waiting",
            step_id=None,
            vars={},
            step_state={},
            visits={},
            wait_kind="start",
            wait_until=now,
            started_at=now,
            updated_at=now,
        )
    ).inserted_primary_key[0]
    wake(conn, "timers")
    return int(run_id)
