"""`{{ secrets.NAME }}` in an http_request step: the call carries the value; the run, its step
records, the database and the answers of the API never do."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from frontdesk.settings import Settings
from tests.databases import stored_bytes
from tests.engine.support import install, runs, setup_organisation
from tests.factories import Api, eventually

VALUE = "crm-key-5f0c1e9b7a"


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, http_allow_private=True, log_format="text")


@pytest.fixture
def echo() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A CRM that records each call and answers with the Authorization header it got (a careless
    API echoing credentials back)."""
    calls: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            calls.append({"path": self.path, "authorization": self.headers.get("authorization"), "body": body})
            answer = json.dumps({"seen": self.headers.get("authorization"), "plan": "pro"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", calls
    server.shutdown()
    server.server_close()


def lookup_workflow(url: str) -> dict[str, Any]:
    return {
        "name": "CRM lookup",
        "trigger": {"event": "conversation.opened"},
        "steps": [
            {
                "id": "lookup",
                "type": "http_request",
                "method": "POST",
                "url": url + "/customers?key={{ secrets.CRM_KEY }}",
                "headers": {"Authorization": "Bearer {{ secrets.CRM_KEY }}"},
                "body": {"key": "{{ secrets['CRM_KEY'] }}", "said": "{{ message.text }}"},
                "save": {"seen": "$.seen", "plan": "$.plan"},
            }
        ],
    }


def test_the_call_carries_the_secret_and_nothing_recorded_or_returned_holds_it(
    admin: Api, echo: Any, db_url: str
) -> None:
    url, calls = echo
    channel = setup_organisation(admin)["channel"]
    admin.put("/api/v1/secrets/CRM_KEY", {"value": VALUE})
    install(admin, lookup_workflow(url))
    forged = "[[secret:CRM_KEY:0123456789abcdef]]"  # a contact guessing at the mark

    admin.inbound(channel, "ada", forged)
    run = eventually(lambda: next((r for r in runs(admin) if r["status"] == "completed"), None), "the run")

    [call] = calls
    assert call["path"] == f"/customers?key={VALUE}"
    assert call["authorization"] == f"Bearer {VALUE}"
    assert json.loads(call["body"]) == {"key": VALUE, "said": forged}
    detail = admin.get(f"/api/v1/runs/{run['id']}")
    assert VALUE not in detail.text
    [step] = [s for s in detail.json()["steps"] if s["step_id"] == "lookup" and s["output"].get("request")]
    assert step["output"]["request"]["headers"] == {"Authorization": "Bearer {{ secrets.CRM_KEY }}"}
    finished = [s for s in detail.json()["steps"] if s["step_id"] == "lookup" and s["branch"] == "success"]
    assert finished[0]["output"]["saved"] == {"seen": "Bearer [secret]", "plan": "pro"}
    assert VALUE.encode() not in stored_bytes(db_url)


def test_a_secret_deleted_after_publishing_fails_the_call_naming_it(admin: Api, echo: Any) -> None:
    url, calls = echo
    channel = setup_organisation(admin)["channel"]
    admin.put("/api/v1/secrets/CRM_KEY", {"value": VALUE})
    install(admin, lookup_workflow(url))
    admin.delete("/api/v1/secrets/CRM_KEY")

    admin.inbound(channel, "ada", "Hello")
    run = eventually(lambda: next((r for r in runs(admin) if r["status"] != "waiting"), None), "the run")

    assert calls == []
    detail = admin.get(f"/api/v1/runs/{run['id']}").json()
    assert "secret 'CRM_KEY' is not set" in json.dumps(detail)


def test_a_workflow_naming_an_unknown_secret_gets_a_problem_at_its_step(admin: Api) -> None:
    definition = lookup_workflow("https://crm.example")
    definition["steps"].append({"id": "tell", "type": "send_message", "text": "Key: {{ secrets.CRM_KEY }}"})
    definition["steps"][0]["next"] = "tell"

    report = admin.post("/api/v1/workflows/validate", {"definition": definition}).json()

    problems = {(p["step"], p["path"], p["message"]) for p in report["problems"]}
    unknown = "secret 'CRM_KEY' is not set: an admin sets it with PUT /api/v1/secrets/CRM_KEY"
    assert ("lookup", "url", unknown) in problems
    assert ("lookup", "headers.Authorization", unknown) in problems
    assert ("lookup", "body.key", unknown) in problems
    assert ("tell", "text", "secrets may be used only in http_request steps (url, headers, body)") in problems

    admin.put("/api/v1/secrets/CRM_KEY", {"value": VALUE})
    report = admin.post("/api/v1/workflows/validate", {"definition": definition}).json()
    assert [(p["step"], p["path"]) for p in report["problems"]] == [("tell", "text")]
