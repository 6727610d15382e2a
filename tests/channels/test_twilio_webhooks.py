"""The Twilio SMS channel through the app: signed webhooks in, the Messages API out (a fake on
127.0.0.1), status callbacks as receipts, STOP/START opt-outs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from frontdesk.settings import Settings
from tests.channels.conversations import conversations, inbound_texts, one_conversation
from tests.channels.twilio_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CONTACT_NUMBER,
    FROM_NUMBER,
    MESSAGES,
    PUBLIC_URL,
    SERVICE_SID,
    FakeTwilio,
    create_channel,
    post_webhook,
    signature,
    webhook,
)
from tests.engine.support import TO_SUPPORT, ask_topic, install, runs, thread, waiting_at
from tests.factories import Api, eventually

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, twilio_api: FakeTwilio) -> Settings:
    return Settings(
        database_url=db_url,
        delivery_backoff_seconds=0.05,
        log_format="text",
        twilio_base_url=twilio_api.url,
        public_url=PUBLIC_URL,
    )


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    return create_channel(admin)


# -- the channel and its credentials -----------------------------------------------------------
def test_a_twilio_channels_auth_token_is_never_returned(admin: Api, channel: dict[str, Any]) -> None:
    shown = [channel, admin.get(f"/api/v1/channels/{channel['id']}").json(), *admin.get("/api/v1/channels").json()]

    assert channel["type"] == "twilio"
    assert channel["config"]["account_sid"] == ACCOUNT_SID
    assert all(AUTH_TOKEN not in str(body) for body in shown)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"account_sid": ACCOUNT_SID}, "auth_token"),
        ({"auth_token": AUTH_TOKEN}, "account_sid"),
        ({"account_sid": "AC123", "auth_token": AUTH_TOKEN}, "account_sid"),
        ({"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN, "from_number": "0612345678"}, "from_number"),
    ],
    ids=["no token", "no account", "short account sid", "number not E.164"],
)
def test_a_twilio_channel_without_usable_settings_is_refused_naming_the_field(
    admin: Api, body: dict[str, str], field: str
) -> None:
    response = admin.post("/api/v1/channels", {"type": "twilio", "name": "SMS", **body})

    assert response.status_code in (400, 422), response.text
    assert field in response.text
    assert admin.get("/api/v1/channels").json() == []


# -- inbound -----------------------------------------------------------------------------------
def test_a_signed_sms_opens_a_conversation_and_gets_empty_twiml(admin: Api, channel: dict[str, Any]) -> None:
    response = post_webhook(admin, channel["id"], webhook("sms"))

    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    assert inbound_texts(admin, one_conversation(admin)) == ["Do you deliver on Sundays?"]
    [contact] = admin.get("/api/v1/contacts").json()
    assert contact["id"]


@pytest.mark.parametrize(
    ("token", "url"),
    [(None, None), ("not-the-token", None), (AUTH_TOKEN, "https://elsewhere.example/webhooks/twilio/1")],
    ids=["missing", "wrong token", "signed for another URL"],
)
def test_a_bad_signature_is_refused_and_stores_nothing(
    admin: Api, channel: dict[str, Any], token: str | None, url: str | None
) -> None:
    response = post_webhook(admin, channel["id"], webhook("sms"), token, url)

    assert response.status_code == 401, response.text
    assert response.json()["error"] == "bad_signature"
    assert AUTH_TOKEN not in response.text
    assert conversations(admin) == []


def test_a_body_changed_after_signing_is_refused(admin: Api, channel: dict[str, Any]) -> None:
    form = webhook("sms")
    signed = post_webhook(admin, channel["id"], form, url=f"{PUBLIC_URL}/webhooks/twilio/{channel['id']}")
    assert signed.status_code == 200
    tampered = {**form, "MessageSid": "SM99999999999999999999999999999999", "Body": "Refund me"}
    path = f"/webhooks/twilio/{channel['id']}"
    headers = {"X-Twilio-Signature": signature(f"{PUBLIC_URL}{path}", form)}
    response = admin.client.post(path, data=tampered, headers=headers)

    assert response.status_code == 401
    assert inbound_texts(admin, one_conversation(admin)) == ["Do you deliver on Sundays?"]


def test_a_webhook_for_an_unknown_or_other_channel_is_404(admin: Api, channel: dict[str, Any]) -> None:
    assert post_webhook(admin, 999_999, webhook("sms")).status_code == 404
    assert post_webhook(admin, admin.channel()["id"], webhook("sms")).status_code == 404


def test_an_sms_delivered_twice_stores_one_message(admin: Api, channel: dict[str, Any]) -> None:
    assert post_webhook(admin, channel["id"], webhook("sms")).status_code == 200
    assert post_webhook(admin, channel["id"], webhook("sms")).status_code == 200

    assert inbound_texts(admin, one_conversation(admin)) == ["Do you deliver on Sundays?"]


def test_a_webhook_without_a_message_sid_is_acknowledged_and_skipped(admin: Api, channel: dict[str, Any]) -> None:
    response = post_webhook(admin, channel["id"], {"From": CONTACT_NUMBER, "Body": "hi"})

    assert (response.status_code, response.text) == (200, EMPTY_TWIML)
    assert conversations(admin) == []


# -- outbound ----------------------------------------------------------------------------------
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
    post_webhook(admin, channel["id"], webhook("sms"))
    conversation_id = one_conversation(admin)
    sent = reply(admin, conversation_id, text)
    return conversation_id, eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery")


def test_an_agent_reply_is_posted_to_the_messages_api_with_a_status_callback(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio
) -> None:
    _, sent = agent_reply(admin, channel, "Yes, from 10 to 4.")
    [request] = twilio_api.sent

    assert request.problem is None
    assert request.path == MESSAGES
    assert request.form == {
        "To": [CONTACT_NUMBER],
        "From": [FROM_NUMBER],
        "Body": ["Yes, from 10 to 4."],
        "StatusCallback": [f"{PUBLIC_URL}/webhooks/twilio/{channel['id']}"],
    }
    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("sent", 1)


def test_a_messaging_service_sends_instead_of_the_number_when_set(admin: Api, twilio_api: FakeTwilio) -> None:
    channel = create_channel(admin, messaging_service_sid=SERVICE_SID)

    agent_reply(admin, channel, "Hello")

    assert twilio_api.sent[0].form["MessagingServiceSid"] == [SERVICE_SID]
    assert "From" not in twilio_api.sent[0].form


def test_status_callbacks_move_the_reply_to_delivered_never_back(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio
) -> None:
    conversation_id, sent = agent_reply(admin, channel, "Yes, from 10 to 4.")

    for state in ("queued", "sent", "delivered", "sent"):
        response = post_webhook(admin, channel["id"], webhook("status", MessageStatus=state, SmsStatus=state))
        assert (response.status_code, response.text) == (200, EMPTY_TWIML)

    assert message(admin, conversation_id, sent["id"])["delivery_status"] == "delivered"
    updates = [u["payload"] for u in admin.events(type="message.delivery_updated")]
    assert [u["status"] for u in updates if u["message_id"] == sent["id"]] == ["sent", "delivered"]


def test_an_undelivered_callback_fails_the_reply_with_twilios_error_code(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio
) -> None:
    conversation_id, sent = agent_reply(admin, channel, "Yes, from 10 to 4.")

    post_webhook(admin, channel["id"], webhook("undelivered"))

    found = message(admin, conversation_id, sent["id"])
    assert found["delivery_status"] == "failed"
    assert found["delivery_error"] == "undelivered: Twilio error 30003 (unreachable destination handset)"


def test_a_rate_limited_send_is_retried_and_sent_once(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio
) -> None:
    twilio_api.script(429, 503)

    _, sent = agent_reply(admin, channel, "Hello again")

    assert [r.status for r in twilio_api.sent] == [429, 503, 201]
    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("sent", 3)


def test_a_refused_send_fails_for_good_with_twilios_code_and_message(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio
) -> None:
    twilio_api.script(400)

    _, sent = agent_reply(admin, channel, "Hello again")

    assert [r.status for r in twilio_api.sent] == [400]
    assert sent["delivery_status"] == "failed"
    refusal = f"Twilio answered HTTP 400: error 21211: Invalid 'To' Phone Number: {CONTACT_NUMBER}"
    assert sent["delivery_error"] == refusal
    assert AUTH_TOKEN not in sent["delivery_error"]


# -- STOP and START ----------------------------------------------------------------------------
def test_stop_records_the_opt_out_and_a_reply_is_then_refused_naming_it(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio
) -> None:
    post_webhook(admin, channel["id"], webhook("sms"))
    conversation_id = one_conversation(admin)

    assert post_webhook(admin, channel["id"], webhook("stop")).status_code == 200
    response = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": "Sorry to see you go"})

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "opted_out"
    assert "sent STOP" in response.json()["detail"]
    notes = [m["text"] for m in thread(admin, conversation_id) if m["direction"] != "in"]
    assert notes == ["The contact opted out of SMS from this number (STOP)"]
    [changed] = admin.events(type="contact.opt_out_changed")
    contact = {"kind": "contact", "agent_id": None}
    assert changed["payload"] == {"channel_id": channel["id"], "opted_out": True, "keyword": "STOP", "actor": contact}
    assert twilio_api.sent == []


@pytest.mark.parametrize("word", ["stop", " Unsubscribe ", "QUIT", "end"])
def test_every_stop_keyword_in_any_case_opts_out_without_opening_a_conversation(
    admin: Api, channel: dict[str, Any], word: str
) -> None:
    form = webhook("stop", Body=word)
    del form["OptOutType"]  # a number without Advanced Opt-Out: the body decides

    post_webhook(admin, channel["id"], form)

    assert conversations(admin) == []
    [changed] = admin.events(type="contact.opt_out_changed")
    assert changed["payload"]["opted_out"] is True


def test_start_opts_back_in_and_replies_go_out_again(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio
) -> None:
    post_webhook(admin, channel["id"], webhook("sms"))
    conversation_id = one_conversation(admin)
    post_webhook(admin, channel["id"], webhook("stop"))
    post_webhook(admin, channel["id"], webhook("stop"))  # Twilio retried it: nothing twice

    start = webhook("stop", Body="START", OptOutType="START", MessageSid="SM5a9c3f8e7b6d4c5e6f7a8b9c0d1e2f3a")
    post_webhook(admin, channel["id"], start)
    sent = reply(admin, conversation_id, "Welcome back")

    assert eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery")["delivery_status"] == "sent"
    assert [e["payload"]["opted_out"] for e in admin.events(type="contact.opt_out_changed")] == [True, False]


def test_a_workflow_message_to_an_opted_out_contact_fails_its_run_with_the_reason(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio
) -> None:
    post_webhook(admin, channel["id"], webhook("sms"))
    post_webhook(admin, channel["id"], webhook("stop"))
    nudge = {"id": "nudge", "type": "send_message", "text": "We miss you"}
    workflow_id = install(admin, {"name": "Follow-up", "trigger": {"event": "manual"}, "steps": [nudge]})
    [contact] = admin.get("/api/v1/contacts").json()

    started = admin.post(f"/api/v1/workflows/{workflow_id}/runs", {"contact_id": contact["id"]})

    assert started.status_code == 201, started.text
    run_id = started.json()["id"]
    run = eventually(lambda: (r := admin.get(f"/api/v1/runs/{run_id}").json())["status"] == "failed" and r, "the run")
    assert "opted out" in str(run)
    assert twilio_api.sent == []


# -- the whole path ----------------------------------------------------------------------------
ASK_AND_ASSIGN = ask_topic(TO_SUPPORT, "Inbound SMS")


def test_an_sms_contact_answers_a_numbered_question_is_assigned_and_gets_the_agents_reply_delivered(
    admin: Api, channel: dict[str, Any], twilio_api: FakeTwilio
) -> None:
    agent = admin.post("/api/v1/agents", {"name": "Sam", "email": "sam@example.test", "availability": "online"})
    team = admin.post("/api/v1/teams", {"name": "Support"}).json()
    assert admin.put(f"/api/v1/teams/{team['id']}/members/{agent.json()['id']}").status_code == 201
    install(admin, ASK_AND_ASSIGN)
    twilio_api.script(503)  # the provider is down for the question's first attempt

    post_webhook(admin, channel["id"], webhook("sms"))
    conversation_id = one_conversation(admin)
    eventually(lambda: waiting_at(admin, conversation_id, "ask_topic"), "the question")
    question = eventually(lambda: [s for s in twilio_api.sent if s.status == 201] or None, "the question sent")[0]
    assert question.form["Body"] == ["Sales or support?\n1. Sales\n2. Support"]

    answer = webhook("sms", Body="2", MessageSid="SM6b0d4a9f8c7e5d6f7a8b9c0d1e2f3a4b")
    assert post_webhook(admin, channel["id"], answer).status_code == 200
    assigned = eventually(
        lambda: (c := admin.get(f"/api/v1/conversations/{conversation_id}").json())["assignee_id"] and c, "assigned"
    )
    assert assigned["assignee_id"] == agent.json()["id"]
    assert runs(admin, conversation_id=conversation_id)[0]["status"] == "completed"

    sent = reply(admin, conversation_id, "Hi, Sam here.")
    eventually(lambda: settled(admin, conversation_id, sent["id"]), "the reply sent")
    sid = f"SM{len(twilio_api.sent):032d}"  # the sid the fake answered the reply with
    post_webhook(admin, channel["id"], webhook("status", MessageSid=sid, SmsSid=sid))

    assert message(admin, conversation_id, sent["id"])["delivery_status"] == "delivered"
    bodies = [s.form["Body"][0] for s in twilio_api.sent]
    assert bodies.count("Hi, Sam here.") == 1
    assert [s.status for s in twilio_api.sent] == [503, 201, 201]  # the question once after the outage, the reply
    assert len(conversations(admin)) == 1
