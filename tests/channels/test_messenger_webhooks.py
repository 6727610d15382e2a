"""The Messenger channel through the app: Meta's webhooks in, the Send API out to a fake Graph API;
and the 24-hour window with the HUMAN_AGENT tag's 7 days for an agent's reply."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from frontdesk.settings import Settings
from tests.channels.conversations import conversations, inbound_texts, one_conversation
from tests.channels.meta_support import (
    ACCESS_TOKEN,
    APP_SECRET,
    PAGE_ID,
    PAGE_NAME,
    PSID,
    VERIFY_TOKEN,
    FakeMetaGraph,
    create_channel,
    payload,
    post_webhook,
    sign,
)
from tests.engine.support import thread
from tests.factories import Api, eventually, make_agent, make_token


@pytest.fixture
def graph() -> Iterator[FakeMetaGraph]:
    fake = FakeMetaGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeMetaGraph) -> Settings:
    return Settings(
        database_url=db_url, delivery_backoff_seconds=0.05, log_format="text", meta_graph_base_url=graph.url
    )


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    return create_channel(admin)


# -- settings ----------------------------------------------------------------------------------
def test_a_messenger_channels_credentials_are_never_returned(admin: Api, channel: dict[str, Any]) -> None:
    shown = json.dumps(admin.get(f"/api/v1/channels/{channel['id']}").json())

    assert channel["config"]["page_id"] == PAGE_ID
    assert all(secret not in shown for secret in (ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"page_id": None}, "page_id"),
        ({"page_id": "my-page"}, "page_id"),
        ({"access_token": None}, "access_token"),
        ({"phone_number_id": "106540352242922"}, "phone_number_id"),
    ],
)
def test_bad_messenger_settings_are_refused_naming_the_field(admin: Api, change: dict[str, Any], field: str) -> None:
    body = {"type": "messenger", "name": "Messenger", "page_id": PAGE_ID, "access_token": ACCESS_TOKEN}
    body |= {"app_secret": APP_SECRET, "verify_token": VERIFY_TOKEN}
    body = {key: value for key, value in {**body, **change}.items() if value is not None}

    response = admin.post("/api/v1/channels", body)

    assert response.status_code in (400, 422), response.text
    assert field in response.text
    assert admin.get("/api/v1/channels").json() == []


def test_a_patch_cannot_null_the_page_id(admin: Api, channel: dict[str, Any]) -> None:
    response = admin.patch(f"/api/v1/channels/{channel['id']}", {"page_id": None})

    assert response.status_code in (400, 422)
    assert "page_id" in response.text


def test_the_check_names_the_page_the_token_belongs_to(admin: Api, channel: dict[str, Any]) -> None:
    checked = admin.post(f"/api/v1/channels/{channel['id']}/check").json()

    assert checked["outcome"] == "ok"
    assert checked["identity"] == {"id": PAGE_ID, "name": PAGE_NAME}


def test_the_check_says_a_refused_token_is_refused(admin: Api, channel: dict[str, Any]) -> None:
    admin.patch(f"/api/v1/channels/{channel['id']}", {"access_token": "expired"})

    checked = admin.post(f"/api/v1/channels/{channel['id']}/check").json()

    assert checked["outcome"] == "failed"
    assert checked["detail"].startswith("Messenger refused the page access token (HTTP 400: (#190) Invalid OAuth")
    assert "expired" not in checked["detail"]


# -- the subscription check and signatures -----------------------------------------------------
def test_the_verification_echoes_the_challenge_for_the_right_token(admin: Api, channel: dict[str, Any]) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"}

    response = admin.client.get(f"/webhooks/meta/{channel['id']}", params=query)

    assert (response.status_code, response.text) == (200, "1158201444")


def test_the_verification_is_refused_for_a_wrong_token(admin: Api, channel: dict[str, Any]) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}

    response = admin.client.get(f"/webhooks/meta/{channel['id']}", params=query)

    assert response.status_code == 403
    assert "hub.verify_token" in response.text


@pytest.mark.parametrize("headers", [{}, {"X-Hub-Signature-256": "sha256=00"}, sign(b"another body")])
def test_a_wrong_or_missing_signature_is_refused_and_stores_nothing(
    admin: Api, channel: dict[str, Any], headers: dict[str, str]
) -> None:
    response = post_webhook(admin, channel["id"], payload("text"), headers=headers)

    assert response.status_code == 401
    assert response.json()["error"] == "bad_signature"
    assert conversations(admin) == []


def test_a_webhook_signed_with_another_secret_is_refused(admin: Api, channel: dict[str, Any]) -> None:
    raw = json.dumps(payload("text")).encode()

    response = post_webhook(admin, channel["id"], raw, headers=sign(raw, "someone-elses-secret"))

    assert response.status_code == 401
    assert conversations(admin) == []


def test_a_webhook_for_a_whatsapp_channel_id_is_404(admin: Api) -> None:
    api_channel = admin.channel()

    assert post_webhook(admin, api_channel["id"], payload("text")).status_code == 404


# -- inbound -------------------------------------------------------------------------------------
def test_a_signed_text_opens_a_conversation(admin: Api, channel: dict[str, Any]) -> None:
    response = post_webhook(admin, channel["id"], payload("text"))

    assert response.json() == {"messages": 1, "statuses": 0}
    conversation_id = one_conversation(admin)
    assert inbound_texts(admin, conversation_id) == ["hello, world!"]


def test_a_webhook_delivered_twice_stores_one_message(admin: Api, channel: dict[str, Any]) -> None:
    post_webhook(admin, channel["id"], payload("text"))

    again = post_webhook(admin, channel["id"], payload("text"))

    assert again.json() == {"messages": 0, "statuses": 0}
    assert inbound_texts(admin, one_conversation(admin)) == ["hello, world!"]


def test_an_echo_of_the_pages_own_message_is_ignored(admin: Api, channel: dict[str, Any]) -> None:
    response = post_webhook(admin, channel["id"], payload("echo"))

    assert response.json() == {"messages": 0, "statuses": 0}
    assert conversations(admin) == []


def test_a_postback_is_the_buttons_title(admin: Api, channel: dict[str, Any]) -> None:
    post_webhook(admin, channel["id"], payload("postback"))

    assert inbound_texts(admin, one_conversation(admin)) == ["Get Started"]


def test_a_quick_reply_of_another_app_keeps_the_text_the_contact_saw(admin: Api, channel: dict[str, Any]) -> None:
    post_webhook(admin, channel["id"], payload("foreign_quick_reply"))

    assert inbound_texts(admin, one_conversation(admin)) == ["hello, world!"]


def test_an_image_is_stored_to_fetch_from_its_url(admin: Api, channel: dict[str, Any]) -> None:
    post_webhook(admin, channel["id"], payload("image"))

    [message] = thread(admin, one_conversation(admin))
    [attachment] = message["attachments"]
    assert (message["text"], attachment["kind"]) == ("", "image")


def test_a_reaction_is_a_note_in_the_open_conversation_and_opens_none(admin: Api, channel: dict[str, Any]) -> None:
    post_webhook(admin, channel["id"], payload("reaction"))
    assert conversations(admin) == []

    post_webhook(admin, channel["id"], payload("text"))
    post_webhook(admin, channel["id"], payload("reaction"))
    post_webhook(admin, channel["id"], payload("reaction"))

    notes = [m["text"] for m in thread(admin, one_conversation(admin)) if m["direction"] != "in"]
    assert notes == ["The contact reacted \u2764\ufe0f to a message"]


# -- outbound, receipts --------------------------------------------------------------------------
def reply(api: Api, conversation_id: int, body: str) -> dict[str, Any]:
    response = api.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": body})
    assert response.status_code == 201, response.text
    return dict(response.json())


def settled(api: Api, conversation_id: int, message_id: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = next(m for m in thread(api, conversation_id) if m["id"] == message_id)
        return None if found["delivery_status"] == "pending" else found

    return eventually(probe, "the delivery")


def message(admin: Api, conversation_id: int, message_id: int) -> dict[str, Any]:
    return next(m for m in thread(admin, conversation_id) if m["id"] == message_id)


def test_a_reply_goes_through_the_send_api_then_delivery_and_read_watermark_move_it_forward(
    admin: Api, channel: dict[str, Any], graph: FakeMetaGraph
) -> None:
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)

    sent = settled(admin, conversation_id, reply(admin, conversation_id, "Yes, in blue.")["id"])

    [request] = graph.sent
    assert request.problem is None
    assert request.body == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "Yes, in blue."},
    }
    assert (sent["delivery_status"], sent["provider_message_id"]) == ("sent", "m_OUT1")
    assert post_webhook(admin, channel["id"], payload("delivery")).json() == {"messages": 0, "statuses": 1}
    assert message(admin, conversation_id, sent["id"])["delivery_status"] == "delivered"
    read = payload("read")
    read["entry"][0]["messaging"][0]["read"]["watermark"] = int(dt.datetime.now(dt.UTC).timestamp() * 1000) + 60_000
    assert post_webhook(admin, channel["id"], read).json() == {"messages": 0, "statuses": 1}
    assert message(admin, conversation_id, sent["id"])["delivery_status"] == "read"


def test_a_read_watermark_before_the_message_leaves_it_as_it_was(admin: Api, channel: dict[str, Any]) -> None:
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)
    sent = settled(admin, conversation_id, reply(admin, conversation_id, "Hello")["id"])

    post_webhook(admin, channel["id"], payload("read"))  # its watermark is in 2016

    assert message(admin, conversation_id, sent["id"])["delivery_status"] == "sent"


def test_a_question_with_too_many_options_goes_as_a_numbered_list(
    admin: Api, channel: dict[str, Any], graph: FakeMetaGraph, client: TestClient
) -> None:
    from tests.channels.media_support import reply as action_reply

    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)
    options = [f"Option {n}" for n in range(1, 15)]

    action_reply(client.app, conversation_id, "Pick one", [], quick_replies=options)

    request = eventually(lambda: graph.sent or None, "the question")[0]
    assert request.problem is None
    assert request.body["message"]["text"].startswith("Pick one\n1. Option 1\n2. Option 2")
    assert "quick_replies" not in request.body["message"]


def test_a_temporary_graph_error_is_retried_and_sent_once(
    admin: Api, channel: dict[str, Any], graph: FakeMetaGraph
) -> None:
    graph.script(503)
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)

    sent = settled(admin, conversation_id, reply(admin, conversation_id, "Hello again")["id"])

    assert [r.status for r in graph.sent] == [503, 200]
    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("sent", 2)


def test_a_refused_send_fails_for_good_with_metas_message(
    admin: Api, channel: dict[str, Any], graph: FakeMetaGraph
) -> None:
    graph.script(400)
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)

    sent = settled(admin, conversation_id, reply(admin, conversation_id, "Hello again")["id"])

    assert [r.status for r in graph.sent] == [400]
    assert sent["delivery_status"] == "failed"
    assert sent["delivery_error"] == "Messenger answered HTTP 400: (#100) (#400) scripted failure"


# -- the 24-hour window and HUMAN_AGENT's 7 days --------------------------------------------------
def age_inbound_messages(admin: Api, hours: float) -> None:
    """The contact wrote `hours` ago: their messages' times moved back (the clock is the wall's)."""
    when = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=hours)).replace(tzinfo=None).isoformat(sep=" ")
    admin.db.write_sync(
        lambda c: c.execute(text("UPDATE messages SET created_at = :at WHERE direction = 'in'"), {"at": when})
    )


@pytest.fixture
def agent(client: TestClient, admin: Api) -> Api:
    """An agent (an admin, who sees every conversation) replying as themself."""
    agent_id = make_agent(admin.db, "admin")
    return Api(client, make_token(admin.db, "admin", agent_id))


@pytest.mark.parametrize(("channel_type", "first"), [("messenger", "text"), ("instagram", "instagram_text")])
def test_an_agents_reply_after_24_hours_goes_with_the_human_agent_tag(
    admin: Api, agent: Api, graph: FakeMetaGraph, channel_type: str, first: str
) -> None:
    post_webhook(admin, create_channel(admin, channel_type)["id"], payload(first))
    conversation_id = one_conversation(admin)
    age_inbound_messages(admin, 6 * 24)

    sent = settled(admin, conversation_id, reply(agent, conversation_id, "Sorry for the wait!")["id"])

    assert sent["delivery_status"] == "sent"
    [request] = graph.sent
    assert (request.body["messaging_type"], request.body["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")


def test_an_agents_reply_within_24_hours_is_a_plain_response(
    admin: Api, agent: Api, channel: dict[str, Any], graph: FakeMetaGraph
) -> None:
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)
    age_inbound_messages(admin, 23)

    settled(admin, conversation_id, reply(agent, conversation_id, "Right away")["id"])

    assert graph.sent[0].body["messaging_type"] == "RESPONSE"
    assert "tag" not in graph.sent[0].body


def test_an_agents_reply_after_7_days_is_refused_before_sending(
    admin: Api, agent: Api, channel: dict[str, Any], graph: FakeMetaGraph
) -> None:
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)
    age_inbound_messages(admin, 7 * 24 + 1)

    response = agent.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "Still there?"})

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "outside_reply_window"
    assert "past even the HUMAN_AGENT tag's 7 days" in response.json()["detail"]
    assert [m["direction"] for m in thread(admin, conversation_id)] == ["in"]
    assert graph.sent == []


def test_a_message_not_from_an_agent_after_24_hours_is_refused(
    admin: Api, channel: dict[str, Any], graph: FakeMetaGraph
) -> None:
    post_webhook(admin, channel["id"], payload("text"))
    conversation_id = one_conversation(admin)
    age_inbound_messages(admin, 25)

    response = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "Still there?"})

    assert response.status_code == 409
    assert "outside Messenger's 24-hour window" in response.json()["detail"]
    assert graph.sent == []
