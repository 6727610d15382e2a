"""Answers a contact sends in a row each count, however far behind the engine is when it reads
them: the second wrong answer is not lost because the first one's retry message came later."""

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
from frontdesk.store.database import Database
from frontdesk.store.tables import workflow_run_steps, workflow_runs

NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
WORKFLOW = {
    "name": "Ask e-mail",
    "trigger": {"event": "conversation.opened"},
    "steps": [
        {
            "id": "ask_email",
            "type": "ask_question",
            "text": "Your e-mail?",
            "answer": {"type": "email"},
            "max_retries": 2,
            "save_to": "vars.email",
        }
    ],
}


def _setup(conn: Connection) -> int:
    workflow_id = create_workflow(conn, WORKFLOW)
    publish(conn, workflow_id, SYSTEM)
    set_enabled(conn, workflow_id, True, SYSTEM)
    return create_channel(conn, ChannelType.API, "Chat", {})[0]


def _run(db: Database) -> dict[str, Any]:
    def read(conn: Connection) -> dict[str, Any]:
        [run] = [dict(r) for r in conn.execute(select(workflow_runs)).mappings()]
        steps = conn.execute(select(workflow_run_steps).where(workflow_run_steps.c.run_id == run["id"]).order_by("seq"))
        run["steps"] = [dict(s) for s in steps.mappings()]
        return run

    return db.read_sync(read)


def _say(db: Database, channel_id: int, n: int, text: str) -> None:
    db.write_sync(lambda c: receive_inbound(c, InboundMessage(channel_id, "ada", f"m{n}", text)))


def test_wrong_answers_sent_in_a_row_before_the_engine_reads_them_all_count(db: Database) -> None:
    channel_id = db.write_sync(_setup)
    cache = VersionCache()
    _say(db, channel_id, 1, "Hello")
    db.write_sync(lambda c: process_events(c, cache, NOW))  # the question is asked
    for n, text in enumerate(("not an email", "still wrong", "nope again"), start=2):
        _say(db, channel_id, n, text)  # all three are in the log before the engine reads one
    db.write_sync(lambda c: process_events(c, cache, NOW))

    run = _run(db)
    assert run["status"] == "completed"
    invalid = [s for s in run["steps"] if s["branch"] == "invalid"]
    assert [s["reason"] for s in invalid] == ["3 invalid answers; last: 'nope again' is not an e-mail address"]


def test_a_good_answer_after_a_wrong_one_in_a_row_is_accepted(db: Database) -> None:
    channel_id = db.write_sync(_setup)
    cache = VersionCache()
    _say(db, channel_id, 1, "Hello")
    db.write_sync(lambda c: process_events(c, cache, NOW))
    _say(db, channel_id, 2, "oops")
    _say(db, channel_id, 3, "ada@example.org")
    db.write_sync(lambda c: process_events(c, cache, NOW))

    run = _run(db)
    assert run["status"] == "completed"
    assert run["vars"] == {"email": "ada@example.org"}


def test_a_message_sent_before_the_first_question_does_not_answer_it(db: Database) -> None:
    channel_id = db.write_sync(_setup)
    cache = VersionCache()
    _say(db, channel_id, 1, "Hello")
    _say(db, channel_id, 2, "ada@example.org")  # before the question was asked
    db.write_sync(lambda c: process_events(c, cache, NOW))

    run = _run(db)
    assert (run["status"], run["wait_kind"]) == ("waiting", "reply")
