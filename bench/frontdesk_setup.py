"""Prepare a fresh demo Frontdesk for a scenario through its public API, and read the event log
back afterwards (the timestamps the engine wrote are the measure of request → assigned)."""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

NO_WAITS_WORKFLOW = Path(__file__).resolve().parent / "workflows" / "inbound-no-waits.yaml"
ASK_AND_WAIT_WORKFLOW = Path(__file__).resolve().parent / "workflows" / "ask-and-wait.yaml"
DEMO_TEAMS = ("Sales", "Support", "Billing")
MAX_CAPACITY = 1000  # the API's ceiling per agent and per team setting


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.request.method} {response.request.url}: {response.status_code} {response.text}")
    return response.json() if response.content else None


def disable_workflows(api: httpx.Client) -> None:
    """Workflows disabled: the engine still reads the log but starts nothing."""
    for workflow in _ok(api.get("/api/v1/workflows")):
        if workflow.get("enabled"):
            _ok(api.post(f"/api/v1/workflows/{workflow['id']}/disable"))


def install_no_waits_workflow(api: httpx.Client) -> int:
    """Replace the demo workflow by the no-waits variant (greet → branch on the text → assign)."""
    return install_workflow(api, NO_WAITS_WORKFLOW)


def install_workflow(api: httpx.Client, path: Path) -> int:
    """Disable every workflow, then create, publish and enable the one in `path`."""
    disable_workflows(api)
    definition = yaml.safe_load(path.read_text())
    workflow_id = int(_ok(api.post("/api/v1/workflows", json={"definition": definition}))["id"])
    _ok(api.post(f"/api/v1/workflows/{workflow_id}/publish"))
    _ok(api.post(f"/api/v1/workflows/{workflow_id}/enable"))
    return workflow_id


def team_ids(api: httpx.Client) -> dict[str, int]:
    return {team["name"]: int(team["id"]) for team in _ok(api.get("/api/v1/teams"))}


def make_room(api: httpx.Client, conversations: int) -> int:
    """Give the demo teams capacity for `conversations` split evenly: each team's capacity set to
    the maximum and enough extra online agents added. Returns the number of agents added."""
    teams = team_ids(api)
    per_team = math.ceil(conversations / len(DEMO_TEAMS) * 1.2) + MAX_CAPACITY
    added = 0
    for name in DEMO_TEAMS:
        team_id = teams[name]
        _ok(api.patch(f"/api/v1/teams/{team_id}", json={"assignment": {"capacity": MAX_CAPACITY}}))
        members = len(_ok(api.get(f"/api/v1/teams/{team_id}"))["member_ids"])
        for index in range(max(0, math.ceil(per_team / MAX_CAPACITY) - members)):
            agent = _ok(
                api.post(
                    "/api/v1/agents",
                    json={
                        "name": f"Bench {name} {index}",
                        "email": f"bench-{name.lower()}-{index}@bench.local",
                        "capacity": MAX_CAPACITY,
                        "availability": "online",
                    },
                )
            )
            _ok(api.put(f"/api/v1/teams/{team_id}/members/{agent['id']}", json={}))
            added += 1
    return added


def parse_time(value: str) -> float:
    return dt.datetime.fromisoformat(value).timestamp()


@dataclass
class EventLog:
    """Events of some types read so far, keyed by conversation; `cursor` resumes the reading."""

    types: tuple[str, ...]
    cursor: int = 0
    first: dict[str, dict[int, float]] = field(default_factory=dict)  # type -> conversation -> time
    counts: dict[str, int] = field(default_factory=dict)

    def read(self, api: httpx.Client) -> int:
        """Read every event after the cursor; return how many were new."""
        new = 0
        while True:
            page = _ok(api.get("/api/v1/events", params={"after": self.cursor, "limit": 200, "type": list(self.types)}))
            for event in page["events"]:
                kind, conversation = event["type"], event["conversation_id"]
                self.counts[kind] = self.counts.get(kind, 0) + 1
                self.first.setdefault(kind, {}).setdefault(conversation, parse_time(event["created_at"]))
            new += len(page["events"])
            if not page["events"]:
                return new
            self.cursor = page["next_cursor"]

    def times(self, kind: str) -> dict[int, float]:
        return self.first.get(kind, {})


def wait_for(
    api: httpx.Client, log: EventLog, kind: str, expected: set[int], *, timeout: float, stall: float = 15.0
) -> float:
    """Read the log until every conversation in `expected` has a `kind` event, nothing new came
    for `stall` seconds, or `timeout` passed. Returns the seconds waited."""
    start = time.monotonic()
    last_progress = start
    while True:
        if log.read(api):
            last_progress = time.monotonic()
        if expected <= log.times(kind).keys():
            break
        now = time.monotonic()
        if now - start > timeout or now - last_progress > stall:
            break
        time.sleep(0.2)
    return time.monotonic() - start
