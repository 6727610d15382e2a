"""A waiting run survives the process: killed with SIGKILL, a new server resumes it."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.engine.support import fake_crm, seed_workflow
from tests.factories import eventually


class Client:
    def __init__(self, server: LiveServer) -> None:
        self.server = server

    def __call__(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = httpx.request(
            method, self.server.base_url + path, json=body, params=params, headers=self.server.headers, timeout=10
        )
        assert response.status_code < 400, response.text
        return response.json()


@pytest.fixture(autouse=True)
def _allow_loopback_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FRONTDESK_HTTP_ALLOW_PRIVATE", "true")


def _install(api: Client, definition: dict[str, Any]) -> None:
    """The demo already runs this workflow: point its draft at the fake CRM and publish it."""
    workflow = next(w for w in api("GET", "/api/v1/workflows") if w["name"] == definition["name"])
    api("PUT", f"/api/v1/workflows/{workflow['id']}/draft", {"definition": definition})
    api("POST", f"/api/v1/workflows/{workflow['id']}/publish")


def _waiting(api: Client, conversation_id: int, step: str) -> dict[str, Any] | None:
    found = api("GET", "/api/v1/runs", conversation_id=conversation_id)
    return next((r for r in found if r["status"] == "waiting" and r["current_step"] == step), None)


def _inbound(api: Client, text: str) -> dict[str, Any]:
    body = {"contact": {"external_id": "ada", "name": "Ada"}, "message": {"id": f"m-{time.time_ns()}", "text": text}}
    return dict(api("POST", "/api/v1/channels/1/inbound", body))


def test_an_answer_after_a_restart_resumes_the_waiting_run(live_server: LiveServer) -> None:
    api = Client(live_server)
    with fake_crm({"ada@example.org": "pro"}) as (url, calls):
        _install(api, seed_workflow(url))
        conversation_id = _inbound(api, "Hi")["conversation_id"]
        eventually(lambda: _waiting(api, conversation_id, "ask_topic"), "the first question")
        _inbound(api, "Support")
        run = eventually(lambda: _waiting(api, conversation_id, "ask_email"), "the e-mail question")

        live_server.kill()
        live_server.start()
        api = Client(live_server)
        _inbound(api, "ada@example.org")

        def finished() -> dict[str, Any] | None:
            found = api("GET", f"/api/v1/runs/{run['id']}")
            return found if found["status"] == "completed" else None

        done = eventually(finished, "the run to finish after the restart")
    assert done["vars"]["plan"] == "pro"
    assert [c["email"] for c in calls] == ["ada@example.org"]
    conversation = api("GET", f"/api/v1/conversations/{conversation_id}")
    assert conversation["assignee_id"] is not None  # the demo's Support team has online agents


def test_a_timeout_that_fell_due_while_the_server_was_down_fires_on_start(live_server: LiveServer) -> None:
    api = Client(live_server)
    with fake_crm({}) as (url, _):
        _install(api, seed_workflow(url, **{"ask_topic.timeout": "2s"}))
        conversation_id = _inbound(api, "Hi")["conversation_id"]
        run = eventually(lambda: _waiting(api, conversation_id, "ask_topic"), "the first question")

        live_server.kill()
        time.sleep(2.5)  # let the 2 s timeout fall due while no process runs
        live_server.start()
        api = Client(live_server)

        def timed_out() -> dict[str, Any] | None:
            found = api("GET", f"/api/v1/runs/{run['id']}")
            branches = [(s["step_id"], s["branch"]) for s in found["steps"]]
            return found if ("ask_topic", "timed_out") in branches else None

        eventually(timed_out, "the timeout to fire after the restart")
