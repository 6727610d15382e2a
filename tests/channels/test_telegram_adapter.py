"""The Telegram adapter alone: the secret header, the documented updates, the bodies it sends."""

from __future__ import annotations

import datetime as dt

import pytest

from frontdesk.channels.base import Ignored, InboundItem
from frontdesk.channels.telegram import ADAPTER, message_body, webhook_answer
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.records import Outbound
from tests.channels.telegram_support import WEBHOOK_SECRET, media_update, update

HEADER = "x-telegram-bot-api-secret-token"


def test_the_webhook_secret_verifies_and_any_other_or_none_does_not() -> None:
    assert ADAPTER.verify((WEBHOOK_SECRET,), {HEADER: WEBHOOK_SECRET}, b"{}", 0) is None
    assert ADAPTER.verify((WEBHOOK_SECRET,), {HEADER: "guess"}, b"{}", 0) is not None
    assert ADAPTER.verify((WEBHOOK_SECRET,), {}, b"{}", 0) == f"missing {HEADER} header"
    assert ADAPTER.verify(("",), {HEADER: "anything"}, b"{}", 0) == "the channel has no webhook secret"


def test_a_text_message_gives_the_chat_its_names_and_a_chat_scoped_id() -> None:
    [item] = ADAPTER.parse(update("text"))

    assert item == InboundItem("1111111", "1111111:1365", "Do you ship to Lisbon?", "Test Test Lastname")


def test_a_username_fills_the_name_when_there_is_no_first_or_last_name() -> None:
    body = update("text")
    body["message"]["from"] = {"id": 1111111, "is_bot": False, "first_name": "", "username": "lisbon_fan"}

    [item] = ADAPTER.parse(body)

    assert isinstance(item, InboundItem)
    assert item.contact_name == "@lisbon_fan"


def test_a_tapped_button_is_its_data_from_the_same_contact() -> None:
    [item] = ADAPTER.parse(update("callback_query"))

    assert item == InboundItem(
        "1111111", "callback:4382bfdwdsb323b2d9", "Support", "Test Test Lastname", reply_id="Support"
    )
    assert webhook_answer(update("callback_query")) == {
        "method": "answerCallbackQuery",
        "callback_query_id": "4382bfdwdsb323b2d9",
    }
    assert webhook_answer(update("text")) is None


@pytest.mark.parametrize(
    "body",
    [
        None,
        [],
        {"update_id": "x"},
        {"update_id": 1},
        update("edited_message"),
        media_update("dice"),
        {"update_id": 5, "message": {"message_id": 1, "chat": "x"}},
        {"update_id": 6, "callback_query": {"id": 7}},
        {"update_id": 7, "message": {**update("text")["message"], "chat": {"id": -100, "type": "group"}}},
    ],
    ids=["null", "list", "bad update_id", "empty", "edited", "dice", "bad chat", "bad callback", "group chat"],
)
def test_a_malformed_or_unsupported_update_is_skipped_never_raised(body: object) -> None:
    items = ADAPTER.parse(body)

    assert len(items) == 1
    assert isinstance(items[0], Ignored)


def _outbound(text: str, options: list[str]) -> Outbound:
    return Outbound(
        id=1,
        channel_id=1,
        conversation_id=1,
        contact_id=1,
        external_id="1111111",
        text=text,
        quick_replies=options,
        author_kind="workflow",
        author_agent_id=None,
        created_at=dt.datetime(2026, 12, 3),
        attempt=1,
    )


def test_options_are_an_inline_keyboard_one_button_a_row() -> None:
    body = message_body(_outbound("Sales or support?", ["Sales", "Support"]))

    assert body == {
        "chat_id": 1111111,
        "text": "Sales or support?",
        "reply_markup": {
            "inline_keyboard": [
                [{"text": "Sales", "callback_data": "Sales"}],
                [{"text": "Support", "callback_data": "Support"}],
            ]
        },
    }


def test_an_option_longer_than_64_bytes_turns_the_options_into_numbered_text() -> None:
    body = message_body(_outbound("Pick one", ["Short", "é" * 33]))

    assert "reply_markup" not in body
    assert body["text"].splitlines() == ["Pick one", "1. Short", "2. " + "é" * 33]


def test_telegram_channels_take_no_other_types_settings() -> None:
    assert ADAPTER.check_config({}) == {}
    with pytest.raises(InvalidInput):
        ADAPTER.check_config({"phone_number_id": "1"})
