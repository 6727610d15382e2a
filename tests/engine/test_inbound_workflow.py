"""The seed's inbound conversation workflow, end to end through the public API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from frontdesk.settings import Settings
from tests.engine.support import (
    fake_crm,
    install,
    runs,
    seed_workflow,
    setup_organisation,
    thread,
    waiting_at,
)
from tests.factories import Api, eventually, make_token


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, http_allow_private=True, log_format="text")


@pytest.fixture
def crm() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    with fake_crm({"ada@example.org": "free", "boss@bigcorp.example": "enterprise"}) as found:
        yield found


def _converse(admin: Api, channel: int, who: str, *replies: str) -> int:
    """The contact opens a conversation, then answers each question as it is asked."""
    conversation_id = int(admin.inbound(channel, who, "Hi", name=who.title()).json()["conversation_id"])
    for step, reply in zip(("ask_topic", "ask_email"), replies, strict=False):
        eventually(lambda s=step: waiting_at(admin, conversation_id, s), f"the question {step}")  # type: ignore[misc]
        admin.inbound(channel, who, reply)
    return conversation_id


def _finished(admin: Api, conversation_id: int) -> dict[str, Any]:
    return eventually(
        lambda: next((r for r in runs(admin, conversation_id=conversation_id) if r["status"] != "waiting"), None),
        "the run to finish",
    )


def test_contact_is_greeted_asked_looked_up_routed_and_assigned(admin: Api, crm: Any) -> None:
    url, calls = crm
    org = setup_organisation(admin)
    install(admin, seed_workflow(url))

    conversation_id = _converse(admin, org["channel"], "ada", "billing", "ada@example.org")

    run = _finished(admin, conversation_id)
    assert run["status"] == "completed"
    assert run["vars"] == {"topic": "Billing", "plan": "free", "next_open": run["vars"]["next_open"]}
    conversation = admin.get(f"/api/v1/conversations/{conversation_id}").json()
    assert conversation["assignee_id"] == org["agents"]["Billing"]
    contact = admin.get(f"/api/v1/contacts/{conversation['contact_id']}").json()
    assert contact["fields"]["email"] == "ada@example.org"
    assert calls == [{"email": "ada@example.org", "idempotency_key": f"run-{run['id']}-crm_lookup-1"}]
    texts = [m["text"] for m in thread(admin, conversation_id)]
    assert texts == [
        "Hi",
        "Hello Ada, welcome to Acme!",
        "What can we help you with?",
        "billing",
        "What is your e-mail address?",
        "ada@example.org",
    ]
    steps = admin.get(f"/api/v1/runs/{run['id']}").json()["steps"]
    taken = [(s["step_id"], s["branch"]) for s in steps if s["waiting"] is None]
    assert taken == [
        ("greet", "next"),
        ("ask_topic", "answered"),
        ("ask_email", "answered"),
        ("crm_lookup", "success"),
        ("hours", "open"),
        ("route", "billing"),
        ("assign_billing", "assigned"),
    ]
    assert next(s for s in steps if s["step_id"] == "route")["reason"] == "vars.topic equals 'Billing'"


def test_an_invalid_answer_gets_the_retry_message_and_counts(admin: Api, crm: Any) -> None:
    url, _ = crm
    org = setup_organisation(admin)
    install(admin, seed_workflow(url))

    conversation_id = _converse(admin, org["channel"], "ada", "support", "not an email")
    eventually(
        lambda: any("does not look like an e-mail" in m["text"] for m in thread(admin, conversation_id)),
        "the retry message",
    )
    admin.inbound(org["channel"], "ada", "still wrong")
    admin.inbound(org["channel"], "ada", "nope again")

    run = _finished(admin, conversation_id)
    steps = admin.get(f"/api/v1/runs/{run['id']}").json()["steps"]
    invalid = next(s for s in steps if s["branch"] == "invalid")
    assert invalid["step_id"] == "ask_email"
    assert "3 invalid answers" in invalid["reason"]
    assert admin.get(f"/api/v1/conversations/{conversation_id}").json()["assignee_id"] == org["agents"]["Support"]


def test_enterprise_contact_goes_to_their_dedicated_agent(admin: Api, crm: Any) -> None:
    url, _ = crm
    org = setup_organisation(admin)
    install(admin, seed_workflow(url))
    owner = admin.post("/api/v1/agents", {"name": "Key account", "email": "kam@acme.test", "availability": "online"})
    first = admin.inbound(org["channel"], "boss", "hello").json()
    admin.patch(f"/api/v1/contacts/{first['contact_id']}", {"owner_agent_id": owner.json()["id"]})

    for step, reply in (("ask_topic", "sales"), ("ask_email", "boss@bigcorp.example")):
        eventually(lambda s=step: waiting_at(admin, first["conversation_id"], s), step)  # type: ignore[misc]
        admin.inbound(org["channel"], "boss", reply)

    run = _finished(admin, first["conversation_id"])
    assert run["vars"]["plan"] == "enterprise"
    conversation = admin.get(f"/api/v1/conversations/{first['conversation_id']}").json()
    assert conversation["assignee_id"] == owner.json()["id"]


def test_outside_business_hours_the_contact_gets_the_away_message(admin: Api, crm: Any) -> None:
    url, _ = crm
    org = setup_organisation(admin)
    install(admin, seed_workflow(url, **{"hours.hours": {}}))

    conversation_id = _converse(admin, org["channel"], "ada", "sales", "ada@example.org")

    _finished(admin, conversation_id)
    texts = [m["text"] for m in thread(admin, conversation_id)]
    assert any(t.startswith("We are closed right now") for t in texts)


def test_unanswered_question_times_out_and_routes_to_support(admin: Api, crm: Any) -> None:
    url, _ = crm
    org = setup_organisation(admin)
    install(admin, seed_workflow(url, **{"ask_topic.timeout": "1s"}))

    conversation_id = int(admin.inbound(org["channel"], "ada", "Hi").json()["conversation_id"])

    run = _finished(admin, conversation_id)
    steps = admin.get(f"/api/v1/runs/{run['id']}").json()["steps"]
    assert ("ask_topic", "timed_out") in [(s["step_id"], s["branch"]) for s in steps]
    assert admin.get(f"/api/v1/conversations/{conversation_id}").json()["assignee_id"] == org["agents"]["Support"]


def test_closing_and_writing_again_starts_a_new_run_but_messages_in_between_do_not(admin: Api, crm: Any) -> None:
    url, _ = crm
    org = setup_organisation(admin)
    workflow_id = install(admin, seed_workflow(url))
    conversation_id = _converse(admin, org["channel"], "ada", "sales", "ada@example.org")
    _finished(admin, conversation_id)
    admin.inbound(org["channel"], "ada", "thanks, one more thing")  # joins the open conversation
    sales = Api(admin.client, make_token(admin.db, "agent", org["agents"]["Sales"]))
    assert sales.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "Sure!"}).status_code == 201
    assert sales.post(f"/api/v1/conversations/{conversation_id}/close", {"note": "done"}).status_code == 200

    second = admin.inbound(org["channel"], "ada", "Hello again").json()

    assert second["conversation_opened"] is True
    eventually(lambda: waiting_at(admin, second["conversation_id"], "ask_topic"), "a new run")
    assert len(runs(admin, workflow_id=workflow_id)) == 2


def test_conversation_opened_by_an_agent_starts_no_inbound_run(admin: Api, crm: Any) -> None:
    url, _ = crm
    org = setup_organisation(admin)
    workflow_id = install(admin, seed_workflow(url))
    contact_id = admin.inbound(org["channel"], "ada", "Hi").json()["contact_id"]
    first = eventually(lambda: runs(admin, workflow_id=workflow_id), "the first run")
    admin.post(f"/api/v1/conversations/{first[0]['conversation_id']}/close")

    opened = admin.post("/api/v1/conversations", {"contact_id": contact_id}).json()

    assert opened["source"] == "api"
    admin.inbound(org["channel"], "ada", "a message in the agent's conversation")
    eventually(lambda: _engine_caught_up(admin), "the engine to process every event")
    assert len(runs(admin, workflow_id=workflow_id)) == 1


def test_closing_the_conversation_cancels_the_waiting_run(admin: Api, crm: Any) -> None:
    url, _ = crm
    org = setup_organisation(admin)
    install(admin, seed_workflow(url))
    conversation_id = int(admin.inbound(org["channel"], "ada", "Hi").json()["conversation_id"])
    run = eventually(lambda: waiting_at(admin, conversation_id, "ask_topic"), "the question")

    admin.post(f"/api/v1/conversations/{conversation_id}/close")

    cancelled = eventually(
        lambda: next((r for r in runs(admin, conversation_id=conversation_id) if r["status"] == "cancelled"), None),
        "the cancellation",
    )
    assert cancelled["id"] == run["id"]
    assert cancelled["end_reason"] == "conversation closed"


def _engine_caught_up(admin: Api) -> bool:
    from sqlalchemy import func, select

    from frontdesk.store.tables import engine_partitions, events

    def check(conn: Any) -> bool:
        last = conn.execute(select(func.max(events.c.id))).scalar()
        position = conn.execute(select(func.min(engine_partitions.c.position))).scalar()
        return bool(position == last)

    return admin.db.read_sync(check)
