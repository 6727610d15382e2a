"""Runs follow the conversation visibility rule; workflow definitions, webhook keys and the HTTP
requests of runs (where API keys live) are shown to managers and admins only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from frontdesk.settings import Settings
from tests.factories import Api, eventually, make_agent, make_token

SECRET = "crm-key-7f3a9"
WORKFLOW = {
    "name": "Look up and say hello",
    "trigger": {"event": "conversation.opened"},
    "steps": [
        {
            "id": "lookup",
            "type": "http_request",
            "url": f"http://127.0.0.1:9/customers?key={SECRET}",
            "headers": {"Authorization": f"Bearer {SECRET}"},
            "next": "hello",
            "on_failure": "hello",
        },
        {"id": "hello", "type": "send_message", "text": "Hello!"},
    ],
}


@pytest.fixture
def settings(db_url: str) -> Settings:
    """The lookup's address is refused (loopback is private): the run goes on at once."""
    return Settings(database_url=db_url, log_format="text", http_allow_private=False)


@dataclass
class Office:
    admin: Api
    sam: Api  # an agent of Sales
    workflow_id: int
    runs: dict[str, int]  # by whose conversation: "sales", "billing"
    conversations: dict[str, int]


def _ended_run(admin: Api, conversation_id: int) -> int:
    def probe() -> int | None:
        listed = admin.get("/api/v1/runs", conversation_id=conversation_id).json()
        return next((r["id"] for r in listed if r["status"] == "completed"), None)

    return eventually(probe, f"the run of conversation {conversation_id} to complete")


@pytest.fixture
def office(admin: Api) -> Office:
    channel = admin.channel()["id"]
    created = admin.post("/api/v1/workflows", {"definition": WORKFLOW})
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    assert admin.post(f"/api/v1/workflows/{workflow_id}/publish").status_code == 200
    assert admin.post(f"/api/v1/workflows/{workflow_id}/enable").status_code == 200
    sales = admin.post("/api/v1/teams", {"name": "Sales"}).json()["id"]
    billing = admin.post("/api/v1/teams", {"name": "Billing"}).json()["id"]
    sam = make_agent(admin.db)
    assert admin.put(f"/api/v1/teams/{sales}/members/{sam}").status_code == 201
    conversations, runs = {}, {}
    for who, team in (("sales", sales), ("billing", billing)):
        conversation = admin.inbound(channel, who, f"A question for {who}").json()["conversation_id"]
        runs[who] = _ended_run(admin, conversation)
        assert admin.post(f"/api/v1/conversations/{conversation}/assign", {"team_id": team}).status_code == 200
        conversations[who] = conversation
    return Office(admin, Api(admin.client, make_token(admin.db, "agent", sam)), workflow_id, runs, conversations)


def test_an_agent_gets_404_for_the_run_of_another_teams_conversation(office: Office) -> None:
    conversation = office.sam.get(f"/api/v1/conversations/{office.conversations['billing']}")
    run = office.sam.get(f"/api/v1/runs/{office.runs['billing']}")

    assert conversation.status_code == 404
    assert run.status_code == 404
    assert run.json()["error"] == "run_not_found"
    assert "A question for billing" not in run.text


def test_an_agent_lists_only_the_runs_of_conversations_they_may_see(office: Office) -> None:
    listed = office.sam.get("/api/v1/runs").json()
    filtered = office.sam.get("/api/v1/runs", conversation_id=office.conversations["billing"]).json()
    by_workflow = office.sam.get("/api/v1/runs", workflow_id=office.workflow_id).json()

    assert [r["id"] for r in listed] == [office.runs["sales"]]
    assert filtered == []
    assert [r["id"] for r in by_workflow] == [office.runs["sales"]]


def test_a_manager_lists_and_reads_every_run(office: Office) -> None:
    manager = Api(office.admin.client, make_token(office.admin.db, "manager"))

    listed = manager.get("/api/v1/runs").json()

    assert sorted(r["id"] for r in listed) == sorted(office.runs.values())
    assert manager.get(f"/api/v1/runs/{office.runs['billing']}").status_code == 200


def test_an_agent_reads_their_teams_run_without_the_http_requests_details(office: Office) -> None:
    run = office.sam.get(f"/api/v1/runs/{office.runs['sales']}")

    assert run.status_code == 200, run.text
    assert [s["step_id"] for s in run.json()["steps"]][:1] == ["lookup"]
    assert SECRET not in run.text
    assert "managers and admins" in run.text


def test_a_manager_reads_the_http_requests_of_a_run(office: Office) -> None:
    run = office.admin.get(f"/api/v1/runs/{office.runs['sales']}")

    assert SECRET in run.text


def test_a_run_without_a_conversation_is_for_managers_only(office: Office) -> None:
    by_hand = {**WORKFLOW, "name": "By hand", "trigger": {"event": "manual"}}
    workflow_id = office.admin.post("/api/v1/workflows", {"definition": by_hand}).json()["id"]
    assert office.admin.post(f"/api/v1/workflows/{workflow_id}/publish").status_code == 200
    assert office.admin.post(f"/api/v1/workflows/{workflow_id}/enable").status_code == 200
    started = office.admin.post(f"/api/v1/workflows/{workflow_id}/runs", {"data": {"order": 7}})
    assert started.status_code == 201, started.text
    run_id = started.json()["id"]

    assert office.sam.get(f"/api/v1/runs/{run_id}").status_code == 404
    assert run_id not in [r["id"] for r in office.sam.get("/api/v1/runs").json()]
    assert office.admin.get(f"/api/v1/runs/{run_id}").status_code == 200


def test_an_agent_lists_workflow_names_and_status_without_definitions_or_webhook_keys(office: Office) -> None:
    listed: list[dict[str, Any]] = office.sam.get("/api/v1/workflows").json()

    assert [(w["name"], w["enabled"], w["published_version"]) for w in listed] == [(WORKFLOW["name"], True, 1)]
    assert "webhook_key" not in listed[0] and "draft" not in listed[0]
    assert SECRET not in str(listed)


@pytest.mark.parametrize("path", ["/api/v1/workflows/{id}", "/api/v1/workflows/{id}/versions/1"])
def test_an_agent_may_not_read_a_workflows_definition(office: Office, path: str) -> None:
    response = office.sam.get(path.format(id=office.workflow_id))

    assert response.status_code == 403
    assert SECRET not in response.text


def test_managers_read_definitions_and_webhook_keys(office: Office) -> None:
    manager = Api(office.admin.client, make_token(office.admin.db, "manager"))

    listed = manager.get("/api/v1/workflows").json()
    detail = manager.get(f"/api/v1/workflows/{office.workflow_id}").json()
    version = manager.get(f"/api/v1/workflows/{office.workflow_id}/versions/1").json()

    assert listed[0]["webhook_key"] == detail["webhook_key"]
    assert SECRET in str(detail["draft"]) and SECRET in str(version)
