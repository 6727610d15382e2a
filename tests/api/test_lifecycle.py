"""The conversation lifecycle as a user of the API sees it."""

from __future__ import annotations

from tests.factories import Api, make_agent, make_token


def test_first_message_opens_a_conversation_with_source_contact(admin: Api) -> None:
    channel = admin.channel()
    receipt = admin.inbound(channel["id"], "ada", "Hello", name="Ada").json()

    assert receipt["conversation_opened"] is True
    conversation = admin.get(f"/api/v1/conversations/{receipt['conversation_id']}").json()
    assert conversation["status"] == "open"
    assert conversation["source"] == "contact"
    assert conversation["contact_id"] == receipt["contact_id"]
    opened = admin.events(type="conversation.opened")
    assert [e["conversation_id"] for e in opened] == [receipt["conversation_id"]]
    assert opened[0]["payload"]["source"] == "contact"


def test_second_message_joins_the_open_conversation(admin: Api) -> None:
    channel = admin.channel()
    first = admin.inbound(channel["id"], "ada", "Hello").json()
    second = admin.inbound(channel["id"], "ada", "Anyone there?").json()

    assert second["conversation_opened"] is False
    assert second["conversation_id"] == first["conversation_id"]
    thread = admin.get(f"/api/v1/conversations/{first['conversation_id']}/messages").json()
    assert [m["text"] for m in thread] == ["Hello", "Anyone there?"]
    assert len(admin.events(type="conversation.opened")) == 1


def test_message_after_close_opens_a_new_conversation(admin: Api) -> None:
    channel = admin.channel()
    first = admin.inbound(channel["id"], "ada", "Hello").json()
    closed = admin.post(
        f"/api/v1/conversations/{first['conversation_id']}/close", {"note": "answered", "category": "faq"}
    )
    assert closed.status_code == 200
    assert closed.json()["closing_note"] == "answered"

    again = admin.inbound(channel["id"], "ada", "One more question").json()

    assert again["conversation_opened"] is True
    assert again["conversation_id"] != first["conversation_id"]
    assert again["contact_id"] == first["contact_id"]
    types = [e["type"] for e in admin.events(type=["conversation.opened", "conversation.closed"])]
    assert types == ["conversation.opened", "conversation.closed", "conversation.opened"]


def test_agent_opens_a_conversation_with_source_agent(admin: Api) -> None:
    channel = admin.channel()
    receipt = admin.inbound(channel["id"], "ada").json()
    admin.post(f"/api/v1/conversations/{receipt['conversation_id']}/close")
    agent_id = make_agent(admin.db)
    agent = Api(admin.client, make_token(admin.db, "agent", agent_id))

    response = agent.post("/api/v1/conversations", {"contact_id": receipt["contact_id"]})

    assert response.status_code == 201
    assert response.json()["source"] == "agent"
    assert response.json()["channel_id"] == channel["id"]
    assert admin.events(type="conversation.opened")[-1]["payload"]["actor"] == {
        "kind": "agent",
        "agent_id": agent_id,
    }


def test_token_without_agent_opens_with_source_api(admin: Api) -> None:
    channel = admin.channel()
    receipt = admin.inbound(channel["id"], "ada").json()
    admin.post(f"/api/v1/conversations/{receipt['conversation_id']}/close")
    api = Api(admin.client, make_token(admin.db, "manager"))

    assert api.post("/api/v1/conversations", {"contact_id": receipt["contact_id"]}).json()["source"] == "api"


def test_opening_while_one_is_open_returns_the_open_one(admin: Api) -> None:
    channel = admin.channel()
    receipt = admin.inbound(channel["id"], "ada").json()

    response = admin.post("/api/v1/conversations", {"contact_id": receipt["contact_id"]})

    assert response.status_code == 200
    assert response.json()["id"] == receipt["conversation_id"]
    assert response.json()["opened"] is False
    assert len(admin.events(type="conversation.opened")) == 1


def test_agent_reply_is_stored_and_emitted(admin: Api) -> None:
    channel = admin.channel()
    receipt = admin.inbound(channel["id"], "ada").json()

    reply = admin.post(f"/api/v1/conversations/{receipt['conversation_id']}/messages", {"text": "Hi Ada!"})

    assert reply.status_code == 201
    assert reply.json()["direction"] == "out"
    assert reply.json()["delivery_status"] == "stored"  # no callback_url on this channel
    sent = admin.events(type="message.sent")
    assert sent[-1]["payload"]["text"] == "Hi Ada!"


def test_assign_and_unassign_emit_events(admin: Api) -> None:
    channel = admin.channel()
    receipt = admin.inbound(channel["id"], "ada").json()
    agent_id = make_agent(admin.db)
    team = admin.post("/api/v1/teams", {"name": "Support"}).json()
    admin.put(f"/api/v1/teams/{team['id']}/members/{agent_id}")
    path = f"/api/v1/conversations/{receipt['conversation_id']}"

    assigned = admin.post(f"{path}/assign", {"agent_id": agent_id, "team_id": team["id"]})
    assert assigned.status_code == 200
    assert (assigned.json()["assignee_id"], assigned.json()["team_id"]) == (agent_id, team["id"])
    assert admin.post(f"{path}/unassign").json()["assignee_id"] is None
    assert admin.get("/api/v1/conversations", assignee_id=agent_id).json() == []
    types = [e["type"] for e in admin.events(type=["conversation.assigned", "conversation.unassigned"])]
    assert types == ["conversation.assigned", "conversation.unassigned"]


def test_list_filters_by_status_and_contact(admin: Api) -> None:
    channel = admin.channel()
    a = admin.inbound(channel["id"], "ada").json()
    b = admin.inbound(channel["id"], "bob").json()
    admin.post(f"/api/v1/conversations/{a['conversation_id']}/close")

    open_ids = [c["id"] for c in admin.get("/api/v1/conversations", status="open").json()]
    assert open_ids == [b["conversation_id"]]
    mine = admin.get("/api/v1/conversations", contact_id=a["contact_id"]).json()
    assert [c["id"] for c in mine] == [a["conversation_id"]]


def test_a_closed_conversation_can_be_reopened_unless_another_is_open(admin: Api) -> None:
    channel = admin.channel()
    first = admin.inbound(channel["id"], "ada", "Hello").json()
    path = f"/api/v1/conversations/{first['conversation_id']}"
    assert admin.post(f"{path}/reopen").status_code == 409  # still open
    admin.post(f"{path}/close", {"note": "done", "category": "faq"})

    reopened = admin.post(f"{path}/reopen")

    assert reopened.status_code == 200
    assert (reopened.json()["status"], reopened.json()["closing_note"]) == ("open", None)
    assert admin.events(type="conversation.reopened")[-1]["conversation_id"] == first["conversation_id"]
    admin.post(f"{path}/close")
    second = admin.inbound(channel["id"], "ada", "New question").json()
    refused = admin.post(f"{path}/reopen")
    assert refused.status_code == 409
    assert f"already has open conversation {second['conversation_id']}" in refused.json()["detail"]
