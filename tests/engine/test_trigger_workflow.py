"""A trigger_workflow step queues a run of another enabled, published workflow for the same
contact and conversation; the timers start it on their next tick. A disabled one is not started."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from frontdesk.actions.channels import create_channel
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.actions.workflows import create_workflow, publish, set_enabled
from frontdesk.domain.model import SYSTEM, ChannelType
from frontdesk.engine.consumer import process_events
from frontdesk.engine.runs import VersionCache
from frontdesk.engine.timers import fire_due
from frontdesk.store.database import Database
from frontdesk.store.tables import messages, workflow_run_steps, workflow_runs, workflows

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _workflow(name: str, event: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": name, "trigger": {"event": event}, "steps": steps}


FOLLOW_UP = _workflow(
    "Follow-up", "contact.tag_added", [{"id": "hello", "type": "send_message", "text": "Follow-up here"}]
)
RETIRED = _workflow("Retired", "contact.tag_added", [{"id": "hello", "type": "send_message", "text": "Retired"}])
INBOUND = _workflow(
    "Inbound",
    "conversation.opened",
    [
        {"id": "follow_up", "type": "trigger_workflow", "workflow": "Follow-up", "next": "retired"},
        {"id": "retired", "type": "trigger_workflow", "workflow": "Retired"},
    ],
)


def _setup(conn: Connection) -> int:
    for definition, enabled in ((FOLLOW_UP, True), (RETIRED, False), (INBOUND, True)):
        workflow_id = create_workflow(conn, definition)
        publish(conn, workflow_id, SYSTEM)
        set_enabled(conn, workflow_id, enabled, SYSTEM)
    return create_channel(conn, ChannelType.API, "Chat", {})[0]


def _runs(conn: Connection) -> dict[str, dict[str, Any]]:
    query = select(workflows.c.name, workflow_runs).join(workflows, workflows.c.id == workflow_runs.c.workflow_id)
    return {r["name"]: dict(r) for r in conn.execute(query).mappings()}


def test_a_trigger_workflow_step_starts_an_enabled_workflow_and_not_a_disabled_one(db: Database) -> None:
    channel_id = db.write_sync(_setup)
    cache = VersionCache()
    db.write_sync(lambda c: receive_inbound(c, InboundMessage(channel_id, "ada", "m1", "Hello")))
    db.write_sync(lambda c: process_events(c, cache, NOW))
    db.write_sync(lambda c: fire_due(c, cache, NOW + dt.timedelta(seconds=1)))

    runs = db.read_sync(_runs)
    assert set(runs) == {"Inbound", "Follow-up"}
    assert runs["Follow-up"]["status"] == "completed"
    assert runs["Follow-up"]["conversation_id"] == runs["Inbound"]["conversation_id"]
    outputs = db.read_sync(
        lambda c: [
            r.output
            for r in c.execute(
                select(workflow_run_steps.c.output)
                .where(workflow_run_steps.c.run_id == runs["Inbound"]["id"])
                .order_by(workflow_run_steps.c.seq)
            )
        ]
    )
    assert outputs == [{"started": True}, {"started": False}]
    sent = db.read_sync(lambda c: list(c.execute(select(messages.c.text).where(messages.c.direction == "out"))))
    assert [row.text for row in sent] == ["Follow-up here"]
