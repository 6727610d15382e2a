"""Property-based: any interleaving of arrivals, availability and capacity changes and closes keeps
assignment honest — no offline agent served, no capacity exceeded, counters exact, nothing
assigned twice, and the queue empty whenever someone eligible has room."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from frontdesk.actions.agents import create_agent, update_agent
from frontdesk.actions.channels import create_channel
from frontdesk.actions.conversations import assign_conversation, close_conversation
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.actions.teams import add_member, create_team
from frontdesk.domain.model import SYSTEM, Availability, ChannelType
from frontdesk.store.tables import agents, conversations, events, queue_entries
from tests.factories import fresh_database

AGENTS = 3
operation = st.one_of(
    st.tuples(st.just("arrive"), st.integers(0, 0)),
    st.tuples(st.sampled_from(["online", "away", "offline"]), st.integers(0, AGENTS - 1)),
    st.tuples(st.just("capacity"), st.integers(0, AGENTS - 1), st.integers(0, 3)),
    st.tuples(st.just("close"), st.integers(0, 50)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    strategy=st.sampled_from(["round_robin", "least_open", "longest_idle", "random"]),
    operations=st.lists(operation, max_size=40),
)
def test_assignment_invariants_hold_for_any_interleaving(
    template_db: Path, strategy: str, operations: list[tuple[int | str, ...]]
) -> None:
    with fresh_database(template_db) as db:
        db.write_sync(lambda c: _play(c, strategy, operations))


def _play(conn: Connection, strategy: str, operations: list[tuple[int | str, ...]]) -> None:
    team_id = create_team(conn, SYSTEM, "T", {"strategy": strategy})
    agent_ids = []
    for n in range(AGENTS):
        agent_id = create_agent(conn, SYSTEM, name=f"A{n}", email=f"a{n}@x.test", capacity=1)
        add_member(conn, team_id, agent_id, SYSTEM)
        agent_ids.append(agent_id)
    channel_id = create_channel(conn, ChannelType.API, "P", {})[0]
    for step, (kind, *args) in enumerate(operations):
        before = conn.execute(select(func.max(events.c.id))).scalar() or 0
        if kind == "arrive":
            receipt = receive_inbound(conn, InboundMessage(channel_id, f"c{step}", f"m{step}", "hello"))
            assign_conversation(conn, receipt.conversation_id, SYSTEM, None, team_id)
        elif kind == "capacity":
            update_agent(conn, agent_ids[int(args[0])], SYSTEM, {"capacity": int(args[1])})
        elif kind == "close":
            open_ids = list(conn.execute(select(conversations.c.id).where(conversations.c.status == "open")).scalars())
            if open_ids:
                close_conversation(conn, open_ids[int(args[0]) % len(open_ids)], SYSTEM, None, None)
        else:
            update_agent(conn, agent_ids[int(args[0])], SYSTEM, {"availability": Availability(kind)})
        _check(conn, team_id, before)


def _check(conn: Connection, team_id: int, since_event: int) -> None:
    people = {r.id: r for r in conn.execute(select(agents))}
    held = dict(
        conn.execute(
            select(conversations.c.assignee_id, func.count())
            .where(conversations.c.status == "open", conversations.c.assignee_id.is_not(None))
            .group_by(conversations.c.assignee_id)
        ).all()
    )
    for agent_id, agent in people.items():
        assert agent.open_count == held.get(agent_id, 0), "the counter is the true number of open conversations"
    for event in conn.execute(
        select(events).where(events.c.id > since_event, events.c.type == "conversation.assigned")
    ):
        agent = people[event.payload["agent_id"]]
        assert agent.availability == "online", "only online agents are auto-assigned"
        assert agent.open_count <= agent.capacity, "auto-assignment never exceeds capacity"
    queued = list(conn.execute(select(queue_entries.c.conversation_id)).scalars())
    if queued:
        statuses = conn.execute(
            select(conversations.c.status, conversations.c.assignee_id).where(conversations.c.id.in_(queued))
        ).all()
        assert all(s == ("open", None) for s in statuses), "a queued conversation is open and unassigned"
        free = [a for a in people.values() if a.availability == "online" and a.open_count < a.capacity]
        assert not free, "the queue waits only while nobody eligible has room"
