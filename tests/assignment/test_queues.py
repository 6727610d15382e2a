"""Team queues drain the moment capacity appears — in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from litestar.testing import TestClient

from frontdesk.server import create_app
from frontdesk.settings import Settings
from tests.factories import Api, make_token


def _team(admin: Api, name: str = "Support", **settings: Any) -> int:
    body: dict[str, Any] = {"name": name}
    if settings:
        body["assignment"] = settings
    response = admin.post("/api/v1/teams", body)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _agent(admin: Api, team_id: int, name: str, availability: str = "online", capacity: int = 10) -> int:
    agent = admin.post(
        "/api/v1/agents",
        {"name": name, "email": f"{name.lower()}@acme.test", "availability": availability, "capacity": capacity},
    ).json()
    assert admin.put(f"/api/v1/teams/{team_id}/members/{agent['id']}").status_code == 201
    return int(agent["id"])


def _conversation(admin: Api, channel: int, who: str) -> int:
    return int(admin.inbound(channel, who, "help").json()["conversation_id"])


def _to_team(admin: Api, conversation_id: int, team_id: int) -> dict[str, Any]:
    response = admin.post(f"/api/v1/conversations/{conversation_id}/assign", {"team_id": team_id})
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_team_assignment_picks_an_online_member_under_capacity(admin: Api) -> None:
    team = _team(admin)
    _agent(admin, team, "Away", availability="away")
    online = _agent(admin, team, "Online")
    channel = admin.channel()["id"]

    conversation = _to_team(admin, _conversation(admin, channel, "ada"), team)

    assert conversation["assignee_id"] == online
    assigned = admin.events(type="conversation.assigned")[-1]["payload"]
    assert assigned["strategy"] == "round_robin"
    assert assigned["reason"].startswith("round_robin in Support")


def test_nobody_free_queues_then_an_agent_coming_online_takes_it_in_the_same_step(admin: Api) -> None:
    team = _team(admin)
    agent = _agent(admin, team, "Zoe", availability="offline")
    channel = admin.channel()["id"]
    conversation_id = _conversation(admin, channel, "ada")

    queued = _to_team(admin, conversation_id, team)
    assert queued["assignee_id"] is None
    assert [e["conversation_id"] for e in admin.get(f"/api/v1/teams/{team}/queue").json()] == [conversation_id]

    admin.patch(f"/api/v1/agents/{agent}", {"availability": "online"})

    assert admin.get(f"/api/v1/conversations/{conversation_id}").json()["assignee_id"] == agent
    assert admin.get(f"/api/v1/teams/{team}/queue").json() == []
    log = admin.events(type=["agent.availability_changed", "conversation.assigned"])
    change = next(i for i, e in enumerate(log) if e["type"] == "agent.availability_changed")
    # the assignment is the very next event: written by the same transaction, not by a sweep later
    assert log[change + 1]["type"] == "conversation.assigned"
    assert log[change + 1]["id"] == log[change]["id"] + 1


def test_closing_a_conversation_hands_the_freed_place_to_the_queue(admin: Api) -> None:
    team = _team(admin)
    agent = _agent(admin, team, "Solo", capacity=1)
    channel = admin.channel()["id"]
    first, second = _conversation(admin, channel, "ada"), _conversation(admin, channel, "bob")
    assert _to_team(admin, first, team)["assignee_id"] == agent
    assert _to_team(admin, second, team)["assignee_id"] is None

    admin.post(f"/api/v1/conversations/{first}/close")

    assert admin.get(f"/api/v1/conversations/{second}").json()["assignee_id"] == agent
    stats = admin.get(f"/api/v1/teams/{team}/stats").json()
    assert (stats["queue_length"], stats["agents"][0]["open"]) == (0, 1)


def test_raising_capacity_or_adding_a_member_drains_the_queue(admin: Api) -> None:
    team = _team(admin)
    agent = _agent(admin, team, "Full", capacity=0)
    channel = admin.channel()["id"]
    waiting = [_conversation(admin, channel, who) for who in ("ada", "bob")]
    for conversation_id in waiting:
        _to_team(admin, conversation_id, team)
    assert admin.get(f"/api/v1/teams/{team}/stats").json()["queue_length"] == 2

    admin.patch(f"/api/v1/agents/{agent}", {"capacity": 1})
    assert admin.get(f"/api/v1/teams/{team}/stats").json()["queue_length"] == 1

    newcomer = admin.post("/api/v1/agents", {"name": "New", "email": "new@acme.test", "availability": "online"}).json()[
        "id"
    ]
    admin.put(f"/api/v1/teams/{team}/members/{newcomer}")
    assert admin.get(f"/api/v1/teams/{team}/stats").json()["queue_length"] == 0
    assignees = {admin.get(f"/api/v1/conversations/{c}").json()["assignee_id"] for c in waiting}
    assert assignees == {agent, newcomer}


def test_queue_is_served_by_priority_then_waiting_time(admin: Api) -> None:
    from frontdesk.assignment.pool import load_team
    from frontdesk.assignment.queue import enqueue
    from frontdesk.clock import now
    from frontdesk.store.sql import conversations

    team = _team(admin)
    agent = _agent(admin, team, "Later", availability="offline", capacity=1)
    channel = admin.channel()["id"]
    early, urgent = _conversation(admin, channel, "early"), _conversation(admin, channel, "urgent")

    def queue_both(conn: Any) -> None:
        for conversation_id, priority in ((early, 0), (urgent, 5)):
            enqueue(conn, conversations.get(conn, conversation_id), load_team(conn, team), priority, {}, now())

    admin.db.write_sync(queue_both)
    assert [e["conversation_id"] for e in admin.get(f"/api/v1/teams/{team}/queue").json()] == [urgent, early]

    admin.patch(f"/api/v1/agents/{agent}", {"availability": "online"})

    assert admin.get(f"/api/v1/conversations/{urgent}").json()["assignee_id"] == agent
    assert admin.get(f"/api/v1/conversations/{early}").json()["assignee_id"] is None


def test_team_capacity_override_caps_members(admin: Api) -> None:
    team = _team(admin, capacity=1)
    agent = _agent(admin, team, "Busy", capacity=10)
    channel = admin.channel()["id"]

    first = _to_team(admin, _conversation(admin, channel, "ada"), team)
    second = _to_team(admin, _conversation(admin, channel, "bob"), team)

    assert (first["assignee_id"], second["assignee_id"]) == (agent, None)
    admin.put(f"/api/v1/teams/{team}/members/{agent}", {"capacity": 2})  # a per-member override wins
    assert admin.get(f"/api/v1/conversations/{second['id']}").json()["assignee_id"] == agent


def test_manual_assignment_to_an_agent_may_exceed_capacity_and_is_counted(admin: Api) -> None:
    team = _team(admin)
    agent = _agent(admin, team, "Max", capacity=0)
    channel = admin.channel()["id"]
    conversation_id = _conversation(admin, channel, "ada")

    response = admin.post(f"/api/v1/conversations/{conversation_id}/assign", {"agent_id": agent, "reason": "VIP"})

    assert response.json()["assignee_id"] == agent
    assert admin.get(f"/api/v1/teams/{team}/stats").json()["agents"][0]["open"] == 1
    assert admin.events(type="conversation.assigned")[-1]["payload"]["reason"] == "VIP"


def test_transfer_records_its_reason(admin: Api) -> None:
    sales, billing = _team(admin, "Sales"), _team(admin, "Billing")
    _agent(admin, sales, "Sam")
    bea = _agent(admin, billing, "Bea")
    channel = admin.channel()["id"]
    conversation_id = _conversation(admin, channel, "ada")
    _to_team(admin, conversation_id, sales)

    moved = admin.post(f"/api/v1/conversations/{conversation_id}/transfer", {"team_id": billing, "reason": "invoice"})

    assert (moved.json()["team_id"], moved.json()["assignee_id"]) == (billing, bea)
    assert "transfer: invoice" in admin.events(type="conversation.assigned")[-1]["payload"]["reason"]
    stats = {a["name"]: a["open"] for a in admin.get(f"/api/v1/teams/{sales}/stats").json()["agents"]}
    assert stats == {"Sam": 0}  # the previous assignee's place was given back


def test_round_robin_keeps_its_place_across_a_restart(admin: Api, settings: Settings) -> None:
    team = _team(admin)
    agents = [_agent(admin, team, name) for name in ("A", "B", "C")]
    channel = admin.channel()["id"]
    first = _to_team(admin, _conversation(admin, channel, "c1"), team)["assignee_id"]
    token = make_token(admin.db, "admin")
    admin.client.__exit__(None, None, None)  # stop the whole app: a restart

    with TestClient(create_app(settings)) as client:
        again = Api(client, token)
        following = [_to_team(again, _conversation(again, channel, f"c{n}"), team)["assignee_id"] for n in (2, 3, 4)]

    assert [first, *following] == [agents[0], agents[1], agents[2], agents[0]]


def test_bad_team_settings_are_refused_and_change_nothing(admin: Api) -> None:
    team = _team(admin)
    cases = [
        ({"assignment": {"strategy": "fastest"}}, "assignment.strategy"),
        ({"assignment": {"capacity": -1}}, "assignment.capacity"),
        ({"assignment": {"reassign_after": "soon"}}, "assignment.reassign_after"),
        ({"business_hours": {"timezone": "Mars/Olympus"}}, "business_hours"),
    ]
    before = admin.get(f"/api/v1/teams/{team}").json()
    for body, field in cases:
        response = admin.patch(f"/api/v1/teams/{team}", body)
        assert response.status_code == 422, (body, response.text)
        assert field in response.json()["detail"], response.json()
    assert admin.get(f"/api/v1/teams/{team}").json() == before
    closed = _conversation(admin, admin.channel()["id"], "ada")
    admin.post(f"/api/v1/conversations/{closed}/close")
    assert admin.post(f"/api/v1/conversations/{closed}/assign", {"team_id": team}).status_code == 409


def test_a_queue_longer_than_one_drain_batch_still_empties(admin: Api) -> None:
    from frontdesk.actions.ingest import InboundMessage, receive_inbound
    from frontdesk.assignment.queue import DRAIN_BATCH
    from tests.factories import eventually

    team = _team(admin)
    agent = _agent(admin, team, "Fast", availability="offline", capacity=1000)
    channel = admin.channel()["id"]
    backlog = DRAIN_BATCH + 50

    def arrive(conn: Any) -> list[int]:
        return [
            receive_inbound(conn, InboundMessage(channel, f"q{n}", f"q{n}", "hi")).conversation_id
            for n in range(backlog)
        ]

    for conversation_id in admin.db.write_sync(arrive):
        _to_team(admin, conversation_id, team)
    assert admin.get(f"/api/v1/teams/{team}/stats").json()["queue_length"] == backlog

    admin.patch(f"/api/v1/agents/{agent}", {"availability": "online"})

    eventually(lambda: admin.get(f"/api/v1/teams/{team}/stats").json()["queue_length"] == 0, "the rest of the queue")
    assert admin.get(f"/api/v1/teams/{team}/stats").json()["agents"][0]["open"] == backlog


def test_entries_nobody_can_take_do_not_hide_the_ones_behind_them(admin: Api) -> None:
    """A drain reads the queue a page at a time; a page full of entries needing a skill nobody
    online has must not stop it before the entries behind them that someone can take."""
    from frontdesk.actions.ingest import InboundMessage, receive_inbound
    from frontdesk.assignment.pool import load_team
    from frontdesk.assignment.queue import DRAIN_BATCH, drain, enqueue
    from frontdesk.clock import now
    from frontdesk.store import rows
    from frontdesk.store.sql import conversations

    team = _team(admin)
    agent = _agent(admin, team, "Plain", availability="offline", capacity=1000)
    channel = admin.channel()["id"]
    blocked_count = DRAIN_BATCH + 20

    def arrive(conn: Any) -> tuple[list[int], list[int]]:
        ids = [
            receive_inbound(conn, InboundMessage(channel, f"s{n}", f"s{n}", "hi")).conversation_id
            for n in range(blocked_count + 3)
        ]
        for position, conversation_id in enumerate(ids):
            skills = {"language": "klingon"} if position < blocked_count else {}
            enqueue(conn, conversations.get(conn, conversation_id), load_team(conn, team), 0, skills, now())
        return ids[:blocked_count], ids[blocked_count:]

    blocked, takeable = admin.db.write_sync(arrive)

    def online_then_drain(conn: Any) -> int:
        # online without update_agent's own drain, so this test calls drain itself, in the same
        # transaction: the engine's periodic drains cannot take the queue in between
        rows.execute(conn, "UPDATE agents SET availability = 'online' WHERE id = ?", (agent,))
        return drain(conn, team, now())

    assert admin.db.write_sync(online_then_drain) == len(takeable)

    assert {admin.get(f"/api/v1/conversations/{c}").json()["assignee_id"] for c in takeable} == {agent}
    assert all(admin.get(f"/api/v1/conversations/{c}").json()["assignee_id"] is None for c in blocked[:5])
    assert admin.get(f"/api/v1/teams/{team}/stats").json()["queue_length"] == blocked_count


def test_longest_idle_takes_turns_within_one_drain(admin: Api) -> None:
    """A capacity raise drains the whole queue at one `now`: each assignment is still recorded after
    the one before it, so longest idle goes round the members (with equal times the lowest id took
    every conversation after each member's first: 7, 1, 1)."""
    team = _team(admin, strategy="longest_idle", capacity=0)
    agents = [_agent(admin, team, name) for name in ("Ann", "Bob", "Cid")]
    channel = admin.channel()["id"]
    for n in range(9):
        assert _to_team(admin, _conversation(admin, channel, f"q{n}"), team)["assignee_id"] is None

    changed = admin.patch(f"/api/v1/teams/{team}", {"assignment": {"strategy": "longest_idle", "capacity": 10}})
    assert changed.status_code == 200, changed.text

    held = {a["agent_id"]: a["open"] for a in admin.get(f"/api/v1/teams/{team}/stats").json()["agents"]}
    assert held == dict.fromkeys(agents, 3)
