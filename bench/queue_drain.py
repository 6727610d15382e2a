"""Scenario 4 — queue drain: N conversations wait in a team's queue while its agents are offline;
the agents come online (all at once) and we time until the team's queue is empty."""

from __future__ import annotations

import asyncio
import json
import math
import time
from pathlib import Path
from typing import Any

import httpx
import uvloop

from bench import frontdesk_setup as fd
from bench.loadgen import Request, closed_loop
from bench.scenarios import BenchConfig, new_contact, recorder, with_auth
from bench.servers import start_frontdesk

AGENT_CAPACITY = 1000  # the API's maximum


def run(config: BenchConfig, workdir: Path) -> dict[str, Any]:
    server = start_frontdesk(workdir / "s4", "frontdesk-s4", config.frontdesk_src)
    size = config.queue_size
    try:
        with server.api() as api:
            fd.disable_workflows(api)  # the queue is filled by hand, not by a workflow
            team_id = fd._ok(api.post("/api/v1/teams", json={"name": "Drain"}))["id"]
            agents = _offline_agents(api, team_id, size)
        opened: dict[int, float] = {}
        uvloop.run(
            closed_loop(
                server.base_url,
                with_auth(server, new_contact("s4")),
                connections=config.connections,
                duration=600.0,
                total=size,
                on_response=recorder(opened),
            )
        )
        conversation_ids = sorted(opened)
        queued_load = uvloop.run(
            closed_loop(
                server.base_url,
                with_auth(server, _assign_to_team(conversation_ids, team_id)),
                connections=config.connections,
                duration=600.0,
                total=len(conversation_ids),
            )
        )
        with server.api() as api:
            queued = fd._ok(api.get(f"/api/v1/teams/{team_id}/stats"))["queue_length"]
            log = fd.EventLog(types=("conversation.assigned",))
            log.read(api)  # only assignments from now on count
        server.reset_peak_memory()
        cpu_before = server.usage().cpu_s
        started = time.time()
        online_ms = uvloop.run(_all_online(server.base_url, server.headers(), agents))
        drain_s, polls = _until_empty(server.base_url, server.headers(), team_id, started, config.drain_timeout)
        with server.api() as api:
            log.read(api)
        assigned = log.times("conversation.assigned")
        usage = server.usage()
        return {
            "queued": queued,
            "agents": len(agents),
            "agent_capacity": math.ceil(size / len(agents)),
            "queueing_throughput": queued_load.summary()["throughput"],
            "drain_s": None if drain_s is None else round(drain_s, 3),  # None: not empty within the timeout
            "stats_polls": polls,
            "assigned": len(assigned),
            "last_assigned_after_s": round(max(assigned.values(), default=started) - started, 3),
            "online_request_ms": [round(ms, 1) for ms in online_ms],
            "server_cpu_s": round(usage.cpu_s - cpu_before, 2),
            "server_peak_rss_mb": round(usage.peak_rss_mb, 1),
        }
    finally:
        server.stop()


def _offline_agents(api: httpx.Client, team_id: int, size: int) -> list[int]:
    count = max(5, math.ceil(size / AGENT_CAPACITY))
    capacity = math.ceil(size / count)
    agents = []
    for index in range(count):
        body = {"name": f"Drain {index}", "email": f"drain-{index}@bench.local", "capacity": capacity}
        agent_id = fd._ok(api.post("/api/v1/agents", json={**body, "availability": "offline"}))["id"]
        fd._ok(api.put(f"/api/v1/teams/{team_id}/members/{agent_id}", json={}))
        agents.append(agent_id)
    return agents


def _assign_to_team(conversation_ids: list[int], team_id: int) -> Any:
    body = json.dumps({"team_id": team_id}).encode()

    def make(index: int) -> Request:
        path = f"/api/v1/conversations/{conversation_ids[index]}/assign"
        return Request("POST", path, body, {"content-type": "application/json"})

    return make


async def _all_online(base_url: str, headers: dict[str, str], agents: list[int]) -> list[float]:
    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=120.0) as client:

        async def online(agent_id: int) -> float:
            started = time.perf_counter()
            response = await client.patch(f"/api/v1/agents/{agent_id}", json={"availability": "online"})
            fd._ok(response)
            return (time.perf_counter() - started) * 1000

        return list(await asyncio.gather(*(online(agent_id) for agent_id in agents)))


def _until_empty(
    base_url: str, headers: dict[str, str], team_id: int, started: float, timeout: float
) -> tuple[float | None, int]:
    polls = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client:
        while time.time() - started < timeout:
            polls += 1
            if fd._ok(client.get(f"/api/v1/teams/{team_id}/stats"))["queue_length"] == 0:
                return time.time() - started, polls
            time.sleep(0.02)
    return None, polls
