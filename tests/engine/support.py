"""Helpers for engine tests: a fake CRM on loopback, the seed's workflow, runs and threads."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from tests.factories import Api

SEED = Path(__file__).resolve().parents[2] / "src" / "frontdesk" / "examples" / "inbound-conversations.yaml"
ALWAYS_OPEN = {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@contextmanager
def fake_crm(plans: dict[str, str]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """GET /api/customers?email=… answers {"plan": …} (404 for unknown e-mails), like a CRM would."""
    calls: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            query = parse_qs(urlsplit(self.path).query)
            email = query.get("email", [""])[0]
            calls.append({"email": email, "idempotency_key": self.headers.get("idempotency-key")})
            found = email in plans
            body = json.dumps({"email": email, "plan": plans[email]} if found else {"error": "not found"}).encode()
            self.send_response(200 if found else 404)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()


def seed_workflow(crm_url: str, **overrides: Any) -> dict[str, Any]:
    """The example inbound workflow, pointed at the fake CRM, open around the clock by default."""
    definition = yaml.safe_load(SEED.read_text())
    steps = {s["id"]: s for s in definition["steps"]}
    steps["crm_lookup"]["url"] = crm_url + "/api/customers?email={{ contact.fields.email | urlencode }}"
    steps["hours"]["hours"] = ALWAYS_OPEN
    for path, value in overrides.items():
        step_id, key = path.split(".", 1)
        steps[step_id][key] = value
    return dict(definition)


def setup_organisation(admin: Api) -> dict[str, Any]:
    """Fields, three teams of one online agent each, and an API channel."""
    for key, kind in (("email", "email"), ("plan", "text")):
        admin.post("/api/v1/contact-fields", {"key": key, "label": key.title(), "type": kind})
    agents: dict[str, int] = {}
    for team in ("Sales", "Support", "Billing"):
        team_id = admin.post("/api/v1/teams", {"name": team}).json()["id"]
        agent = admin.post(
            "/api/v1/agents", {"name": f"{team} agent", "email": f"{team.lower()}@acme.test", "availability": "online"}
        ).json()
        admin.put(f"/api/v1/teams/{team_id}/members/{agent['id']}")
        agents[team] = agent["id"]
    return {"agents": agents, "channel": admin.channel()["id"]}


FROM_A_CONTACT = {"all": [{"field": "conversation.source", "operator": "equals", "value": "contact"}]}
THANKS = {"id": "thanks", "type": "send_message", "text": "Thanks, {{ vars.topic }} it is."}
TO_SUPPORT = {"id": "assign", "type": "assign", "team": "Support"}


def ask_topic(then: dict[str, Any], name: str = "Inbound", text: str = "Sales or support?") -> dict[str, Any]:
    """The channel journeys' inbound workflow: a contact's new conversation is asked Sales or
    Support (buttons or quick replies where the channel has them), then `then` runs."""
    question = {
        "id": "ask_topic",
        "type": "ask_question",
        "text": text,
        "answer": {"type": "choice", "options": ["Sales", "Support"]},
        "save_to": "vars.topic",
        "next": then["id"],
    }
    trigger = {"event": "conversation.opened", "conditions": FROM_A_CONTACT}
    return {"name": name, "trigger": trigger, "steps": [question, then]}


def install(admin: Api, definition: dict[str, Any]) -> int:
    created = admin.post("/api/v1/workflows", {"definition": definition})
    assert created.status_code == 201, created.text
    workflow_id = int(created.json()["id"])
    published = admin.post(f"/api/v1/workflows/{workflow_id}/publish")
    assert published.status_code == 200, published.text
    assert admin.post(f"/api/v1/workflows/{workflow_id}/enable").status_code == 200
    return workflow_id


def thread(admin: Api, conversation_id: int) -> list[dict[str, Any]]:
    return list(admin.get(f"/api/v1/conversations/{conversation_id}/messages", limit=200).json())


def runs(admin: Api, **filters: Any) -> list[dict[str, Any]]:
    return list(admin.get("/api/v1/runs", **filters).json())


def waiting_at(admin: Api, conversation_id: int, step: str) -> dict[str, Any] | None:
    for run in runs(admin, conversation_id=conversation_id):
        if run["status"] == "waiting" and run["current_step"] == step:
            return run
    return None
