"""The Telegram channel through the app: Bot API updates in, messages out to a fake Bot API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from frontdesk.settings import Settings
from tests.channels.conversations import conversations, inbound_texts, one_conversation
from tests.channels.telegram_support import (
    BOT_TOKEN,
    CHAT_ID,
    WEBHOOK_SECRET,
    FakeBotApi,
    create_channel,
    media_update,
    post_update,
    update,
)
from tests.engine.support import THANKS, ask_topic, install, runs, thread, waiting_at
from tests.factories import Api, eventually


@pytest.fixture
def bot_api() -> Iterator[FakeBotApi]:
    fake = FakeBotApi()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, bot_api: FakeBotApi) -> Settings:
    return Settings(
        database_url=db_url, delivery_backoff_seconds=0.05, log_format="text", telegram_base_url=bot_api.url
    )


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    return create_channel(admin)


# -- the channel and its credentials -----------------------------------------------------------
def test_a_telegram_channels_token_and_secret_are_never_returned(admin: Api, channel: dict[str, Any]) -> None:
    shown = [channel, admin.get(f"/api/v1/channels/{channel['id']}").json(), *admin.get("/api/v1/channels").json()]

    assert channel["type"] == "telegram"
    for secret in (BOT_TOKEN, WEBHOOK_SECRET):
        assert all(secret not in str(body) for body in shown)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bot_token": BOT_TOKEN}, "webhook_secret"),
        ({"webhook_secret": WEBHOOK_SECRET}, "bot_token"),
        ({"bot_token": BOT_TOKEN, "webhook_secret": "has spaces"}, "webhook_secret"),
    ],
    ids=["no secret", "no token", "secret with characters setWebhook refuses"],
)
def test_a_telegram_channel_without_a_usable_credential_is_refused_naming_it(
    admin: Api, body: dict[str, str], field: str
) -> None:
    response = admin.post("/api/v1/channels", {"type": "telegram", "name": "TG", **body})

    assert response.status_code in (400, 422), response.text  # 400: the schema's check, 422: the adapter's
    assert field in response.text
    assert admin.get("/api/v1/channels").json() == []


def test_a_replaced_webhook_secret_applies_at_once_and_is_never_shown(admin: Api, channel: dict[str, Any]) -> None:
    response = admin.patch(f"/api/v1/channels/{channel['id']}", {"webhook_secret": "rotated_secret-2"})

    assert response.status_code == 200, response.text
    assert "rotated_secret-2" not in response.text
    assert post_update(admin, channel["id"], update("text")).status_code == 401
    assert post_update(admin, channel["id"], update("text"), "rotated_secret-2").status_code == 200
    [changed] = admin.events(type="channel.updated")
    assert changed["payload"]["changed"] == ["webhook_secret"]


# -- inbound -----------------------------------------------------------------------------------
def test_a_first_message_opens_a_conversation_named_after_the_sender(admin: Api, channel: dict[str, Any]) -> None:
    response = post_update(admin, channel["id"], update("text"))

    assert (response.status_code, response.json()) == (200, {"messages": 1})
    assert inbound_texts(admin, one_conversation(admin)) == ["Do you ship to Lisbon?"]
    [contact] = admin.get("/api/v1/contacts").json()
    assert contact["name"] == "Test Test Lastname"


@pytest.mark.parametrize("secret", [None, "guess", ""], ids=["missing", "wrong", "empty"])
def test_a_wrong_or_missing_secret_token_is_refused_and_stores_nothing(
    admin: Api, channel: dict[str, Any], secret: str | None
) -> None:
    response = post_update(admin, channel["id"], update("text"), secret)

    assert response.status_code == 401, response.text
    assert WEBHOOK_SECRET not in response.text
    assert conversations(admin) == []


def test_an_update_for_an_unknown_or_other_channel_is_404(admin: Api, channel: dict[str, Any]) -> None:
    assert post_update(admin, 999_999, update("text")).status_code == 404
    assert post_update(admin, admin.channel()["id"], update("text")).status_code == 404


def test_an_update_delivered_twice_stores_one_message(admin: Api, channel: dict[str, Any]) -> None:
    assert post_update(admin, channel["id"], update("text")).json() == {"messages": 1}
    assert post_update(admin, channel["id"], update("text")).json() == {"messages": 0}

    assert inbound_texts(admin, one_conversation(admin)) == ["Do you ship to Lisbon?"]


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"update_id": 1, "message": {"chat": 7}}', update("edited_message"), media_update("dice")],
    ids=["not json", "a list", "bad message", "edited message", "dice"],
)
def test_a_malformed_or_unsupported_update_is_acknowledged_and_skipped(
    admin: Api, channel: dict[str, Any], body: Any
) -> None:
    response = post_update(admin, channel["id"], body)

    assert (response.status_code, response.json()) == (200, {"messages": 0})
    assert conversations(admin) == []


# -- outbound ----------------------------------------------------------------------------------
ASK = ask_topic(THANKS)


def test_a_question_goes_out_as_an_inline_keyboard_and_a_tapped_button_answers_it(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi
) -> None:
    install(admin, ASK)
    post_update(admin, channel["id"], update("text"))
    conversation_id = one_conversation(admin)
    eventually(lambda: waiting_at(admin, conversation_id, "ask_topic"), "the question")
    question = eventually(lambda: bot_api.sent or None, "the question sent to Telegram")[0]

    assert question.problem is None
    assert question.body["chat_id"] == CHAT_ID
    keyboard = question.body["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == ["Sales", "Support"]

    tapped = post_update(admin, channel["id"], update("callback_query"))
    assert tapped.json() == {"method": "answerCallbackQuery", "callback_query_id": "4382bfdwdsb323b2d9"}
    thanks = eventually(lambda: bot_api.sent[1:] or None, "the answer's follow-up")[0]
    assert thanks.body == {"chat_id": CHAT_ID, "text": "Thanks, Support it is."}
    assert runs(admin, conversation_id=conversation_id)[0]["status"] == "completed"
    assert len(conversations(admin)) == 1


def reply(admin: Api, conversation_id: int, text: str) -> dict[str, Any]:
    response = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": text})
    assert response.status_code == 201, response.text
    return dict(response.json())


def settled(admin: Api, conversation_id: int, message_id: int) -> dict[str, Any] | None:
    found = next(m for m in thread(admin, conversation_id) if m["id"] == message_id)
    return None if found["delivery_status"] == "pending" else found


def agent_reply(admin: Api, channel: dict[str, Any], text: str) -> dict[str, Any]:
    post_update(admin, channel["id"], update("text"))
    conversation_id = one_conversation(admin)
    sent = reply(admin, conversation_id, text)
    return eventually(lambda: settled(admin, conversation_id, sent["id"]), "the delivery")


def test_an_agent_reply_reaches_the_bot_api_with_the_token(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi
) -> None:
    sent = agent_reply(admin, channel, "Yes, every weekday.")
    [request] = bot_api.sent

    assert request.problem is None
    assert request.path == f"/bot{BOT_TOKEN}/sendMessage"
    assert request.body == {"chat_id": CHAT_ID, "text": "Yes, every weekday."}
    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("sent", 1)


def test_a_rate_limited_send_is_retried_and_sent_once(admin: Api, channel: dict[str, Any], bot_api: FakeBotApi) -> None:
    bot_api.script(429)

    sent = agent_reply(admin, channel, "Hello again")

    assert [r.status for r in bot_api.sent] == [429, 200]
    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("sent", 2)


def test_a_refused_send_fails_for_good_with_telegrams_description(
    admin: Api, channel: dict[str, Any], bot_api: FakeBotApi
) -> None:
    bot_api.script(400)

    sent = agent_reply(admin, channel, "Hello again")

    assert [r.status for r in bot_api.sent] == [400]
    assert sent["delivery_status"] == "failed"
    assert "Bad Request: scripted failure 400" in sent["delivery_error"]
    assert BOT_TOKEN not in sent["delivery_error"]
