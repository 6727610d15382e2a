"""A conversation closed while the engine is behind: the runs its events start end `cancelled`,
saying why, instead of `failed` on a reply nobody can receive."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Connection, select

from frontdesk.actions.channels import create_channel
from frontdesk.actions.conversations import close_conversation
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.actions.workflows import create_workflow, publish, set_enabled
from frontdesk.domain.model import SYSTEM, ChannelType
from frontdesk.engine.consumer import process_events
from frontdesk.engine.runs import VersionCache
from frontdesk.store.database import Database
from frontdesk.store.tables import workflow_run_steps, workflow_runs

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def _workflow(first_step: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "Greet",
        "trigger": {"event": "conversation.opened"},
        "steps": [
            {"id": "tag", "type": "update_tags", "add": ["greeted"], "next": "first"},
            {"id": "first", **first_step},
        ],
    }


def _run_after_a_close_the_engine_did_not_see(db: Database, first_step: dict[str, Any]) -> dict[str, Any]:
    def setup(conn: Connection) -> int:
        workflow_id = create_workflow(conn, _workflow(first_step))
        publish(conn, workflow_id, SYSTEM)
        set_enabled(conn, workflow_id, True, SYSTEM)
        return create_channel(conn, ChannelType.API, "Chat", {})[0]

    channel_id = db.write_sync(setup)
    receipt = db.write_sync(lambda c: receive_inbound(c, InboundMessage(channel_id, "ada", "m1", "Hello")))
    # The agent closes it before the engine reads the conversation.opened event.
    db.write_sync(lambda c: close_conversation(c, receipt.conversation_id, SYSTEM, "spam", None))

    cache = VersionCache()
    db.write_sync(lambda c: [process_events(c, cache, NOW) for _ in range(3)])

    def read(conn: Connection) -> dict[str, Any]:
        [run] = [dict(r) for r in conn.execute(select(workflow_runs)).mappings()]
        steps = conn.execute(select(workflow_run_steps).where(workflow_run_steps.c.run_id == run["id"]))
        run["steps"] = [dict(s) for s in steps.mappings()]
        return run

    return db.read_sync(read)


@pytest.mark.parametrize(
    "first_step",
    [
        {"type": "send_message", "text": "Hello {{ contact.first_name }}!"},
        {"type": "ask_question", "text": "Sales or support?", "save_to": "vars.topic"},
        {"type": "assign", "team": "Sales"},
    ],
    ids=["send_message", "ask_question", "assign"],
)
def test_a_run_whose_conversation_closed_before_it_replied_is_cancelled_saying_why(
    db: Database, first_step: dict[str, Any]
) -> None:
    if first_step["type"] == "assign":
        from frontdesk.actions.teams import create_team

        db.write_sync(lambda c: create_team(c, SYSTEM, "Sales"))

    run = _run_after_a_close_the_engine_did_not_see(db, first_step)

    assert run["status"] == "cancelled"
    assert run["end_reason"] == f"conversation {run['conversation_id']} was closed before this step ran"
    assert run["ended_at"] is not None
    tag, first = run["steps"]
    assert (tag["step_id"], tag["branch"], tag["error"]) == ("tag", "next", None)  # steps before it still acted
    assert (first["step_id"], first["branch"], first["error"], first["waiting"]) == ("first", None, None, None)
    assert first["reason"] == run["end_reason"]
    assert first["output"] == {"skipped": True}
