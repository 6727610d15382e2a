"""Property-based: whatever contacts do and whenever timers fire, the engine keeps its promises."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from frontdesk.actions.agents import create_agent
from frontdesk.actions.channels import create_channel
from frontdesk.actions.conversations import close_conversation, find_open_conversation
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.actions.teams import add_member, create_team
from frontdesk.actions.workflows import create_workflow, publish, set_enabled
from frontdesk.domain.model import SYSTEM, Availability, ChannelType
from frontdesk.engine.consumer import process_events
from frontdesk.engine.runs import VersionCache
from frontdesk.engine.timers import fire_due
from frontdesk.steps import STEP_TYPES
from frontdesk.store.database import Database
from frontdesk.store.tables import conversations, events, workflow_run_steps, workflow_runs
from tests.factories import fresh_database

START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
WORKFLOW = {
    "name": "Triage",
    "trigger": {
        "event": "conversation.opened",
        "conditions": {"all": [{"field": "conversation.source", "operator": "equals", "value": "contact"}]},
    },
    "steps": [
        {
            "id": "ask",
            "type": "ask_question",
            "text": "Sales or support?",
            "save_to": "vars.topic",
            "answer": {"type": "choice", "options": ["Sales", "Support"]},
            "max_retries": 1,
            "timeout": "60s",
            "next": "route",
            "on_invalid": "to_support",
            "on_timeout": "to_support",
        },
        {
            "id": "route",
            "type": "branch",
            "branches": [
                {
                    "label": "sales",
                    "next": "to_sales",
                    "when": {"all": [{"field": "vars.topic", "operator": "equals", "value": "Sales"}]},
                }
            ],
            "else": "to_support",
        },
        {"id": "to_sales", "type": "assign", "team": "Sales", "on_unavailable": "sorry"},
        {"id": "to_support", "type": "assign", "team": "Support", "on_unavailable": "sorry"},
        {"id": "sorry", "type": "send_message", "text": "Everyone is busy."},
    ],
}
CONTACTS = ["ada", "bob"]
action = st.one_of(
    st.tuples(st.just("say"), st.sampled_from(CONTACTS), st.sampled_from(["Sales", "support", "2", "pizza", "?"])),
    st.tuples(st.just("close"), st.sampled_from(CONTACTS), st.just("")),
    st.tuples(st.just("tick"), st.just(""), st.sampled_from(["5", "30", "61"])),
)


def _setup(conn: Connection) -> int:
    for team in ("Sales", "Support"):
        team_id = create_team(conn, SYSTEM, team)
        agent = create_agent(
            conn,
            SYSTEM,
            name=f"{team} agent",
            email=f"{team.lower()}@x.test",
            capacity=1,
            availability=Availability.ONLINE,
        )
        add_member(conn, team_id, agent, SYSTEM)
    workflow_id = create_workflow(conn, WORKFLOW)
    publish(conn, workflow_id, SYSTEM)
    set_enabled(conn, workflow_id, True, SYSTEM)
    return create_channel(conn, ChannelType.API, "P", {})[0]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(action, max_size=25))
def test_runs_start_once_per_opening_wait_alone_and_record_only_real_branches(
    template_db: Path, actions: list[tuple[str, str, str]]
) -> None:
    with fresh_database(template_db) as db:
        _play(db, actions)


def _play(db: Database, actions: list[tuple[str, str, str]]) -> None:
    channel_id = db.write_sync(_setup)
    cache = VersionCache()
    now = START
    for n, (kind, who, value) in enumerate(actions):
        if kind == "say":
            inbound = InboundMessage(channel_id, who, f"m{n}", value)
            db.write_sync(lambda c, m=inbound: receive_inbound(c, m))  # type: ignore[misc]
        elif kind == "close":
            db.write_sync(lambda c, w=who: _close(c, channel_id, w))  # type: ignore[misc]
        else:
            now += dt.timedelta(seconds=int(value))
        db.write_sync(lambda c, t=now: _drain(c, cache, t))  # type: ignore[misc]
        db.read_sync(_check_invariants)


def _close(conn: Connection, channel_id: int, who: str) -> None:
    from frontdesk.store.sql.contacts import by_identity as _contact_by_identity

    contact_id = _contact_by_identity(conn, channel_id, who)
    open_one = find_open_conversation(conn, contact_id) if contact_id else None
    if open_one is not None:
        close_conversation(conn, open_one["id"], SYSTEM, None, None)


def _drain(conn: Connection, cache: VersionCache, now: dt.datetime) -> None:
    while process_events(conn, cache, now) or fire_due(conn, cache, now):
        pass


def _check_invariants(conn: Connection) -> None:
    runs = [dict(r) for r in conn.execute(select(workflow_runs)).mappings()]
    opened = conn.execute(
        select(func.count()).select_from(events).where(events.c.type == "conversation.opened")
    ).scalar()
    # one run per conversation a contact opened, never two for one event
    assert len(runs) == opened
    assert len({r["trigger_event_id"] for r in runs}) == len(runs)
    by_conversation: dict[Any, int] = {}
    for run in runs:
        if run["status"] == "waiting":
            by_conversation[run["conversation_id"]] = by_conversation.get(run["conversation_id"], 0) + 1
            assert run["wait_kind"] == "reply" and run["step_id"] == "ask"
            status = conn.execute(select(conversations.c.status).where(conversations.c.id == run["conversation_id"]))
            assert status.scalar() == "open"  # closing a conversation cancels its waiting run
        assert run["status"] in ("waiting", "completed", "cancelled"), run["end_reason"]
    assert all(count == 1 for count in by_conversation.values())
    steps = WORKFLOW["steps"]
    for record in conn.execute(select(workflow_run_steps)).mappings():
        if record["branch"] is None:
            continue
        raw = next(s for s in steps if s["id"] == record["step_id"])  # type: ignore[index]
        config = STEP_TYPES[raw["type"]].config.model_validate(raw)
        assert record["branch"] in config.targets()
