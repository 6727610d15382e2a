"""Many simultaneous assignments against a real server: capacity is never exceeded, nothing is
assigned twice, and the queue drains as conversations close."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.factories import run_async


async def _all(server: LiveServer, calls: list[tuple[str, str, Any]]) -> list[httpx.Response]:
    limits = httpx.Limits(max_connections=50)
    async with httpx.AsyncClient(base_url=server.base_url, headers=server.headers, limits=limits, timeout=60) as c:
        return list(await asyncio.gather(*(c.request(m, p, json=b) for m, p, b in calls)))


def test_two_hundred_concurrent_assignments_to_five_agents_of_capacity_ten(live_server: LiveServer) -> None:
    api = httpx.Client(base_url=live_server.base_url, headers=live_server.headers, timeout=30)
    for workflow in api.get("/api/v1/workflows").json():  # the demo's workflow would assign too
        api.post(f"/api/v1/workflows/{workflow['id']}/disable")
    team = api.post("/api/v1/teams", json={"name": "Rush", "assignment": {"strategy": "least_open"}}).json()["id"]
    agents = []
    for n in range(5):
        agent = api.post(
            "/api/v1/agents",
            json={"name": f"R{n}", "email": f"r{n}@acme.test", "availability": "online", "capacity": 10},
        ).json()["id"]
        api.put(f"/api/v1/teams/{team}/members/{agent}")
        agents.append(agent)
    channel = api.post("/api/v1/channels", json={"type": "api", "name": "Rush"}).json()["id"]
    inbound = [
        (
            "POST",
            f"/api/v1/channels/{channel}/inbound",
            {"contact": {"external_id": f"c{i}"}, "message": {"id": f"m{i}", "text": "hi"}},
        )
        for i in range(200)
    ]
    conversations = [r.json()["conversation_id"] for r in run_async(_all(live_server, inbound))]

    responses = run_async(
        _all(live_server, [("POST", f"/api/v1/conversations/{c}/assign", {"team_id": team}) for c in conversations])
    )

    assert {r.status_code for r in responses} == {200}
    assignees = [r.json()["assignee_id"] for r in responses]
    assert sum(a is not None for a in assignees) == 50
    assert sorted(a for a in assignees if a is not None) == sorted(agents * 10)  # ten each, never eleven
    stats = api.get(f"/api/v1/teams/{team}/stats").json()
    assert stats["queue_length"] == 150
    assert [a["open"] for a in stats["agents"]] == [10] * 5
    assigned_events = api.get("/api/v1/events", params={"type": "conversation.assigned", "limit": 200}).json()
    assert len({e["conversation_id"] for e in assigned_events["events"]}) == len(assigned_events["events"]) == 50

    closing = [c for c, a in zip(conversations, assignees, strict=True) if a is not None]
    closed = run_async(_all(live_server, [("POST", f"/api/v1/conversations/{c}/close", None) for c in closing]))

    assert {r.status_code for r in closed} == {200}
    stats = api.get(f"/api/v1/teams/{team}/stats").json()
    assert stats["queue_length"] == 100  # every freed place went to the queue at once
    assert [a["open"] for a in stats["agents"]] == [10] * 5
    open_now = api.get("/api/v1/conversations", params={"team_id": team, "status": "open", "limit": 200}).json()
    assert sum(c["assignee_id"] is not None for c in open_now) == 50
