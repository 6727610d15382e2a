"""Authoring workflows through the API: validation, publishing, versions, dry runs, manual starts."""

from __future__ import annotations

from typing import Any

from tests.engine.support import install, runs, setup_organisation
from tests.factories import Api, eventually


def _simple(name: str = "Welcome", text: str = "Hello {{ contact.first_name }}!") -> dict[str, Any]:
    return {
        "name": name,
        "trigger": {
            "event": "conversation.opened",
            "conditions": {"all": [{"field": "conversation.source", "operator": "equals", "value": "contact"}]},
        },
        "steps": [{"id": "hello", "type": "send_message", "text": text}],
    }


def test_publishing_an_invalid_draft_lists_every_problem_with_its_step(admin: Api) -> None:
    setup_organisation(admin)
    draft = {
        "name": "Broken",
        "trigger": {"event": "conversation.opened"},
        "steps": [
            {
                "id": "ask",
                "type": "ask_question",
                "text": "Mail?",
                "save_to": "contact.fields.mail",
                "timeout": "40d",
                "next": "nowhere",
            },
            {"id": "greet", "type": "send_message", "text": "{{ oops"},
            {"id": "route", "type": "assign", "team": "Ghosts"},
            {"id": "mystery", "type": "teleport"},
        ],
    }
    workflow = admin.post("/api/v1/workflows", {"definition": draft}).json()
    assert workflow["draft_report"]["valid"] is False

    response = admin.post(f"/api/v1/workflows/{workflow['id']}/publish")

    assert response.status_code == 422
    problems = {(p["step"], p["path"]) for p in response.json()["problems"]}
    assert {
        ("ask", "save_to"),
        ("ask", "timeout"),
        ("ask", "answered"),
        ("greet", "text"),
        ("route", "team"),
        ("mystery", "steps[3].type"),
    } <= problems
    assert admin.get(f"/api/v1/workflows/{workflow['id']}").json()["versions"] == []


def test_validate_reports_without_storing_and_accepts_yaml(admin: Api) -> None:
    yaml_text = "name: Y\ntrigger: {event: message.received}\nsteps:\n  - {id: a, type: send_message, text: hi}\n"

    report = admin.post("/api/v1/workflows/validate", {"yaml": yaml_text})

    assert report.json() == {"valid": True, "problems": []}
    assert admin.get("/api/v1/workflows").json() == []
    bad = admin.post("/api/v1/workflows/validate", {"yaml": "name: [unclosed"})
    assert bad.status_code == 422
    assert bad.json()["error"] == "invalid_yaml"


def test_a_run_keeps_the_version_it_started_on(admin: Api) -> None:
    org = setup_organisation(admin)
    definition = _simple()
    definition["steps"] = [
        {"id": "ask", "type": "ask_question", "text": "Version one asks", "next": "bye"},
        {"id": "bye", "type": "send_message", "text": "Version one says bye"},
    ]
    workflow_id = install(admin, definition)
    first = admin.inbound(org["channel"], "ada", "Hi").json()
    eventually(lambda: runs(admin, conversation_id=first["conversation_id"]), "the first run")

    definition["steps"][1]["text"] = "Version two says bye"
    assert admin.put(f"/api/v1/workflows/{workflow_id}/draft", {"definition": definition}).status_code == 200
    assert admin.post(f"/api/v1/workflows/{workflow_id}/publish").json()["published_version"] == 2
    admin.inbound(org["channel"], "ada", "my answer")

    def said_bye() -> list[str]:
        texts = [m["text"] for m in admin.get(f"/api/v1/conversations/{first['conversation_id']}/messages").json()]
        return [t for t in texts if "bye" in t]

    assert eventually(said_bye, "the goodbye") == ["Version one says bye"]
    assert admin.get(f"/api/v1/workflows/{workflow_id}/versions/1").json()["steps"][1]["text"] == (
        "Version one says bye"
    )


def test_a_disabled_workflow_starts_nothing(admin: Api) -> None:
    org = setup_organisation(admin)
    workflow_id = install(admin, _simple())
    admin.post(f"/api/v1/workflows/{workflow_id}/disable")

    conversation_id = admin.inbound(org["channel"], "ada", "Hi").json()["conversation_id"]
    admin.inbound(org["channel"], "bob", "Hi")  # a later event, processed after the first

    eventually(lambda: admin.get("/api/v1/events", type="message.received").json()["events"], "events")
    assert runs(admin, conversation_id=conversation_id) == []


def test_dry_run_shows_the_path_with_simulated_answers_and_changes_nothing(admin: Api) -> None:
    definition = {
        "name": "Triage",
        "trigger": {"event": "conversation.opened"},
        "steps": [
            {
                "id": "ask",
                "type": "ask_question",
                "text": "Topic?",
                "save_to": "vars.topic",
                "answer": {"type": "choice", "options": ["Sales", "Support"]},
                "next": "route",
            },
            {
                "id": "route",
                "type": "branch",
                "branches": [
                    {
                        "label": "sales",
                        "when": {"all": [{"field": "vars.topic", "operator": "equals", "value": "sales"}]},
                        "next": "to_sales",
                    }
                ],
                "else": "to_support",
            },
            {"id": "to_sales", "type": "assign", "team": "Sales"},
            {"id": "to_support", "type": "assign", "team": "Support"},
        ],
    }
    workflow = admin.post("/api/v1/workflows", {"definition": definition}).json()
    before = len(admin.events())

    result = admin.post(
        f"/api/v1/workflows/{workflow['id']}/dry-run", {"contact": {"name": "Ada"}, "answers": ["pizza", "2"]}
    ).json()

    assert result["status"] == "completed"
    taken = [(s["step_id"], s["branch"]) for s in result["path"] if s["waiting"] is None]
    assert taken == [("ask", "answered"), ("route", "else"), ("to_support", "assigned")]
    assert result["vars"] == {"topic": "Support"}
    assert len(admin.events()) == before


def test_manual_start_runs_the_workflow_for_a_contact(admin: Api) -> None:
    org = setup_organisation(admin)
    contact = admin.inbound(org["channel"], "ada", "Hi", name="Ada Lovelace").json()
    definition = _simple("Nudge", "Hi {{ contact.first_name }}, {{ event.reason }}")
    definition["trigger"] = {"event": "manual"}
    workflow_id = install(admin, definition)

    started = admin.post(
        f"/api/v1/workflows/{workflow_id}/runs", {"contact_id": contact["contact_id"], "data": {"reason": "ping!"}}
    )

    assert started.status_code == 201
    run_id = started.json()["id"]
    done = eventually(
        lambda: (r := admin.get(f"/api/v1/runs/{run_id}").json())["status"] == "completed" and r, "the manual run"
    )
    assert done["conversation_id"] == contact["conversation_id"]
    texts = [m["text"] for m in admin.get(f"/api/v1/conversations/{contact['conversation_id']}/messages").json()]
    assert "Hi Ada, ping!" in texts


def test_incoming_webhook_starts_its_workflow_by_its_secret_url(admin: Api) -> None:
    definition = {
        "name": "Hook",
        "trigger": {"event": "incoming_webhook"},
        "steps": [{"id": "tag", "type": "wait", "duration": "1s"}],
    }
    workflow_id = install(admin, definition)
    key = admin.get(f"/api/v1/workflows/{workflow_id}").json()["webhook_key"]

    accepted = admin.client.post(f"/api/v1/hooks/{key}", json={"order": 42})
    refused = admin.client.post("/api/v1/hooks/not-the-key", json={})

    assert accepted.status_code == 202
    assert refused.status_code == 404
    run = admin.get(f"/api/v1/runs/{accepted.json()['run_id']}").json()
    assert run["trigger"]["event"] == {"type": "incoming_webhook", "data": {"order": 42}}


def test_the_json_schema_is_published_for_editors(admin: Api) -> None:
    schema = admin.client.get("/api/v1/workflows/schema.json").json()

    step_types = {
        d["properties"]["type"]["const"]
        for d in schema["$defs"].values()
        if "type" in d.get("properties", {}) and "const" in d["properties"]["type"]
    }
    assert {"send_message", "ask_question", "http_request", "branch", "assign", "business_hours"} <= step_types
