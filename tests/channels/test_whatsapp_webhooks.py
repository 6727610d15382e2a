"""The WhatsApp channel through the app: Meta's webhooks in, messages out to a fake Graph API."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from frontdesk.settings import Settings
from tests.channels.conversations import conversations, inbound_texts, one_conversation
from tests.channels.whatsapp_support import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraph,
    create_channel,
    payload,
    post_webhook,
    sign,
)
from tests.engine.support import THANKS, ask_topic, install, runs, thread, waiting_at
from tests.factories import Api, eventually

WA_ID = "16505551234"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeGraph) -> Settings:
    return Settings(
        database_url=db_url, delivery_backoff_seconds=0.05, log_format="text", whatsapp_graph_base_url=graph.url
    )


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    return create_channel(admin)


# -- the channel and its credentials -----------------------------------------------------------
def test_a_whatsapp_channels_credentials_are_never_returned(admin: Api, channel: dict[str, Any]) -> None:
    shown = [channel, admin.get(f"/api/v1/channels/{channel['id']}").json(), *admin.get("/api/v1/channels").json()]

    assert channel["config"] == {"phone_number_id": PHONE_NUMBER_ID}
    for secret in (ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN):
        assert all(secret not in str(body) for body in shown)


def test_a_whatsapp_channel_without_its_access_token_is_refused_naming_it(admin: Api) -> None:
    body = {"type": "whatsapp", "name": "WA", "phone_number_id": "1", "app_secret": "s", "verify_token": "v"}

    response = admin.post("/api/v1/channels", body)

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "access_token"
    assert admin.get("/api/v1/channels").json() == []


def test_an_api_channel_does_not_take_whatsapp_credentials(admin: Api) -> None:
    response = admin.post("/api/v1/channels", {"type": "api", "name": "API", "access_token": "x"})

    assert response.status_code == 422, response.text
    assert response.json()["field"] == "access_token"


def test_a_whatsapp_channels_credentials_can_be_replaced_and_the_new_ones_verify(
    admin: Api, channel: dict[str, Any]
) -> None:
    response = admin.patch(f"/api/v1/channels/{channel['id']}", {"app_secret": "rotated-secret"})

    assert response.status_code == 200, response.text
    assert "rotated-secret" not in response.text
    assert post_webhook(admin, channel["id"], payload("text")).status_code == 401
    raw = json.dumps(payload("text")).encode()
    assert post_webhook(admin, channel["id"], raw, sign(raw, "rotated-secret")).status_code == 200
    [update] = admin.events(type="channel.updated")
    assert update["payload"]["changed"] == ["app_secret"]


def test_a_credential_cannot_be_emptied(admin: Api, channel: dict[str, Any]) -> None:
    for value in (None, ""):
        response = admin.patch(f"/api/v1/channels/{channel['id']}", {"access_token": value})
        assert response.status_code in (400, 422), response.text


# -- Meta's subscription check -----------------------------------------------------------------
def test_the_verification_echoes_the_challenge_for_the_right_token(admin: Api, channel: dict[str, Any]) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}

    response = admin.client.get(f"/webhooks/whatsapp/{channel['id']}", params=params)

    assert (response.status_code, response.text) == (200, "1158201444")


def test_the_verification_is_refused_for_a_wrong_token(admin: Api, channel: dict[str, Any]) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}

    response = admin.client.get(f"/webhooks/whatsapp/{channel['id']}", params=params)

    assert response.status_code == 403
    assert "1158201444" not in response.text


# -- inbound -----------------------------------------------------------------------------------
def test_a_signed_text_message_opens_a_conversation_with_the_profile_name(admin: Api, channel: dict[str, Any]) -> None:
    response = post_webhook(admin, channel["id"], payload("text"))

    assert response.status_code == 200, response.text
    conversation_id = one_conversation(admin)
    assert inbound_texts(admin, conversation_id) == ["Does it come in another color?"]
    [contact] = admin.get("/api/v1/contacts").json()
    assert contact["name"] == "Sheena Nelson"


@pytest.mark.parametrize(
    "headers",
    [{}, sign(b"another body"), {"X-Hub-Signature-256": "sha256=" + "0" * 64}],
    ids=["missing", "of another body", "garbage"],
)
def test_a_wrong_or_missing_signature_is_refused_and_stores_nothing(
    admin: Api, channel: dict[str, Any], headers: dict[str, str]
) -> None:
    response = post_webhook(admin, channel["id"], payload("text"), headers)

    assert response.status_code == 401, response.text
    assert conversations(admin) == []


def test_a_webhook_for_an_unknown_channel_is_404(admin: Api, channel: dict[str, Any]) -> None:
    assert post_webhook(admin, 999_999, payload("text")).status_code == 404
    api_channel = admin.channel()
    assert post_webhook(admin, api_channel["id"], payload("text")).status_code == 404


def test_a_webhook_delivered_twice_stores_one_message(admin: Api, channel: dict[str, Any]) -> None:
    for _ in range(2):
        assert post_webhook(admin, channel["id"], payload("text")).status_code == 200

    assert inbound_texts(admin, one_conversation(admin)) == ["Does it come in another color?"]


def test_several_messages_in_one_webhook_are_each_stored_once_in_order(admin: Api, channel: dict[str, Any]) -> None:
    body = payload("text")
    value = body["entry"][0]["changes"][0]["value"]
    first = value["messages"][0]
    value["messages"] = [{**first, "id": f"wamid.B{n}", "text": {"body": f"part {n}"}} for n in range(3)]

    assert post_webhook(admin, channel["id"], body).json() == {"messages": 3, "statuses": 0}
    assert post_webhook(admin, channel["id"], body).json() == {"messages": 0, "statuses": 0}

    assert inbound_texts(admin, one_conversation(admin)) == ["part 0", "part 1", "part 2"]


@pytest.mark.parametrize(
    "body", [b"not json", b"[]", b'{"object":"whatsapp_business_account","entry":[{"changes":7}]}']
)
def test_a_malformed_signed_payload_is_acknowledged_and_skipped(
    admin: Api, channel: dict[str, Any], body: bytes
) -> None:
    response = post_webhook(admin, channel["id"], body)

    assert response.status_code == 200, response.text
    assert conversations(admin) == []


def test_an_unsupported_message_is_skipped_and_the_next_one_stored(admin: Api, channel: dict[str, Any]) -> None:
    body = payload("unsupported")
    value = body["entry"][0]["changes"][0]["value"]
    value["messages"].append(payload("text")["entry"][0]["changes"][0]["value"]["messages"][0])

    assert post_webhook(admin, channel["id"], body).json() == {"messages": 1, "statuses": 0}
    assert inbound_texts(admin, one_conversation(admin)) == ["Does it come in another color?"]


# -- outbound and statuses ---------------------------------------------------------------------
ASK = ask_topic(THANKS)


def test_a_question_goes_out_as_buttons_and_a_tapped_button_answers_it(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    install(admin, ASK)
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)
    eventually(lambda: waiting_at(admin, conversation_id, "ask_topic"), "the question")
    question = eventually(lambda: graph.sent or None, "the question sent to WhatsApp")[0]

    assert question.problem is None
    assert question.body["to"] == WA_ID
    assert question.body["interactive"]["type"] == "button"
    assert [b["reply"]["title"] for b in question.body["interactive"]["action"]["buttons"]] == ["Sales", "Support"]

    assert post_webhook(admin, channel["id"], payload("button_reply")).status_code == 200
    thanks = eventually(lambda: graph.sent[1:] or None, "the answer's follow-up")[0]
    assert thanks.body["text"]["body"] == "Thanks, Support it is."
    assert runs(admin, conversation_id=conversation_id)[0]["status"] == "completed"


def reply(admin: Api, conversation_id: int, text: str) -> dict[str, Any]:
    response = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": text})
    assert response.status_code == 201, response.text
    return dict(response.json())


def message(admin: Api, conversation_id: int, message_id: int) -> dict[str, Any]:
    return next(m for m in thread(admin, conversation_id) if m["id"] == message_id)


def settled(admin: Api, conversation_id: int, message_id: int) -> dict[str, Any] | None:
    found = message(admin, conversation_id, message_id)
    return None if found["delivery_status"] == "pending" else found


def agent_reply(admin: Api, channel: dict[str, Any], text: str) -> tuple[int, dict[str, Any]]:
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)
    sent = reply(admin, conversation_id, text)
    return conversation_id, eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery")


def status(provider_id: str, state: str) -> dict[str, Any]:
    return payload("status", id=provider_id, status=state)


def test_an_agent_reply_is_sent_with_the_token_and_then_delivered_and_read_never_back(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    conversation_id, sent = agent_reply(admin, channel, "Yes, in blue.")
    [request] = graph.sent

    assert request.problem is None
    assert request.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"preview_url": False, "body": "Yes, in blue."},
    }
    assert sent["delivery_status"] == "sent"
    for state in ("delivered", "read", "sent", "delivered"):
        assert post_webhook(admin, channel["id"], status("wamid.OUT1", state)).status_code == 200
    assert message(admin, conversation_id, sent["id"])["delivery_status"] == "read"
    updates = [e["payload"] for e in admin.events(type="message.delivery_updated")]
    assert [u["status"] for u in updates if u["message_id"] == sent["id"]] == ["sent", "delivered", "read"]


def test_a_failed_status_keeps_the_providers_reason(admin: Api, channel: dict[str, Any]) -> None:
    conversation_id, sent = agent_reply(admin, channel, "Still there?")

    post_webhook(admin, channel["id"], payload("failed_status", id="wamid.OUT1"))

    found = message(admin, conversation_id, sent["id"])
    assert (found["delivery_status"], found["delivery_error"]) == ("failed", "Re-engagement message")


def test_a_rate_limited_send_is_retried_and_sent_once(admin: Api, channel: dict[str, Any], graph: FakeGraph) -> None:
    graph.script(429)

    _, sent = agent_reply(admin, channel, "Hello again")

    assert [r.status for r in graph.sent] == [429, 200]
    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("sent", 2)


def test_a_refused_send_fails_for_good_with_the_providers_message(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    graph.script(400)

    _, sent = agent_reply(admin, channel, "Hello again")

    assert [r.status for r in graph.sent] == [400]
    assert sent["delivery_status"] == "failed"
    assert "(#400) scripted failure" in sent["delivery_error"]


# -- the 24-hour customer-service window -------------------------------------------------------
def age_inbound_messages(admin: Api, hours: float) -> None:
    """The contact wrote `hours` ago: their messages' times moved back (the clock is the wall's)."""
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(tzinfo=None).isoformat(sep=" ")
    admin.db.write_sync(
        lambda c: c.execute(text("UPDATE messages SET created_at = :at WHERE direction = 'in'"), {"at": when})
    )


def test_a_reply_outside_the_24_hour_window_is_refused_before_sending(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)
    age_inbound_messages(admin, 25)

    response = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "Still interested?"})

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "outside_reply_window"
    assert "outside WhatsApp's 24-hour window: send a template" in response.json()["detail"]
    assert [m["direction"] for m in thread(admin, conversation_id)] == ["in"]
    assert graph.sent == []


def test_a_reply_within_the_window_is_sent(admin: Api, channel: dict[str, Any], graph: FakeGraph) -> None:
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)
    age_inbound_messages(admin, 23)

    sent = reply(admin, conversation_id, "Yes, in blue.")

    assert eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery")["delivery_status"] == "sent"


def test_a_workflow_message_outside_the_window_fails_its_run_with_the_reason(
    admin: Api, channel: dict[str, Any], graph: FakeGraph
) -> None:
    post_webhook(admin, channel["id"], payload("text"))
    age_inbound_messages(admin, 25)
    nudge = {"id": "nudge", "type": "send_message", "text": "Still interested?"}
    workflow_id = install(admin, {"name": "Follow-up", "trigger": {"event": "manual"}, "steps": [nudge]})
    [contact] = admin.get("/api/v1/contacts").json()

    started = admin.post(f"/api/v1/workflows/{workflow_id}/runs", {"contact_id": contact["id"]})

    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    run = eventually(lambda: (r := admin.get(f"/api/v1/runs/{run_id}").json())["status"] == "failed" and r, "the run")
    assert "outside WhatsApp's 24-hour window" in str(run)
    assert graph.sent == []
