"""A reply deadline is a row: it fires after a restart, even if it fell due while nothing ran."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.factories import eventually


def _client(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.base_url, headers=server.headers, timeout=10)


def test_reassignment_deadline_fires_after_a_restart(live_server: LiveServer) -> None:
    api = _client(live_server)
    for workflow in api.get("/api/v1/workflows").json():
        api.post(f"/api/v1/workflows/{workflow['id']}/disable")
    team = api.post("/api/v1/teams", json={"name": "Night", "assignment": {"reassign_after": "2s"}}).json()["id"]
    agents = []
    for name in ("first", "second"):
        agent = api.post(
            "/api/v1/agents", json={"name": name, "email": f"{name}@acme.test", "availability": "online"}
        ).json()["id"]
        api.put(f"/api/v1/teams/{team}/members/{agent}")
        agents.append(agent)
    body = {"contact": {"external_id": "ada"}, "message": {"id": "m1", "text": "hello"}}
    conversation_id = api.post("/api/v1/channels/1/inbound", json=body).json()["conversation_id"]
    assigned = api.post(f"/api/v1/conversations/{conversation_id}/assign", json={"team_id": team}).json()
    assert assigned["assignee_id"] == agents[0]

    live_server.kill()
    time.sleep(2.5)  # the deadline passes while no process runs
    live_server.start()
    api = _client(live_server)

    def reassigned() -> dict[str, Any] | None:
        found = api.get(f"/api/v1/conversations/{conversation_id}").json()
        return found if found["assignee_id"] == agents[1] else None

    eventually(reassigned, "the reassignment after the restart")
    events = api.get("/api/v1/events", params={"type": "conversation.assigned"}).json()["events"]
    assert "no first reply from agent" in events[-1]["payload"]["reason"]
