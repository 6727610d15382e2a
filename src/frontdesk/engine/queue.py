"""Queue a run to start on the engine's next tick (manual starts, webhooks, trigger_workflow)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection

from frontdesk.store.database import wake
from frontdesk.store.sql import runs


def queue_run(
    conn: Connection,
    workflow_id: int,
    version_id: int,
    trigger: dict[str, Any],
    contact_id: int | None,
    conversation_id: int | None,
    now: dt.datetime,
) -> int:
    run_id = runs.add_queued(conn, workflow_id, version_id, trigger, contact_id, conversation_id, now)
    wake(conn, "timers")
    return run_id
