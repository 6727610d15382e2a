"""The WhatsApp adapter alone: the signature, the documented payloads, the bodies it sends."""

from __future__ import annotations

import datetime as dt

import pytest

from frontdesk.channels.base import Ignored, InboundItem, StatusUpdate
from frontdesk.channels.whatsapp import ADAPTER, message_body
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import DeliveryStatus
from frontdesk.domain.records import Outbound
from tests.channels.whatsapp_support import APP_SECRET, payload, sign

BODY = b'{"object":"whatsapp_business_account"}'


def test_a_body_signed_with_the_app_secret_verifies_and_any_other_does_not() -> None:
    assert ADAPTER.verify((APP_SECRET,), {"x-hub-signature-256": sign(BODY)["X-Hub-Signature-256"]}, BODY, 0) is None
    forged = sign(BODY, "another-secret")["X-Hub-Signature-256"]
    assert (
        ADAPTER.verify((APP_SECRET,), {"x-hub-signature-256": forged}, BODY, 0) == "signature does not match the body"
    )
    assert ADAPTER.verify((APP_SECRET,), {}, BODY, 0) == "missing or malformed x-hub-signature-256 header"


def test_a_text_message_gives_its_sender_profile_name_and_id() -> None:
    [item] = ADAPTER.parse(payload("text"))

    assert item == InboundItem("16505551234", "wamid.TEXT1", "Does it come in another color?", "Sheena Nelson")


@pytest.mark.parametrize(
    ("name", "text", "reply_id"),
    [
        ("button_reply", "Support", "Support"),
        ("list_reply", "Returns", "row-2"),
        ("template_button", "Stop promotions", "STOP_PROMOS"),
    ],
)
def test_a_tapped_button_or_row_is_its_title_with_its_id_kept(name: str, text: str, reply_id: str) -> None:
    [item] = ADAPTER.parse(payload(name))

    assert isinstance(item, InboundItem)
    assert (item.text, item.reply_id) == (text, reply_id)


def test_statuses_are_reported_with_the_failure_title() -> None:
    assert ADAPTER.parse(payload("status")) == [StatusUpdate("wamid.OUT1", DeliveryStatus.DELIVERED)]
    assert ADAPTER.parse(payload("failed_status")) == [
        StatusUpdate("wamid.OUT1", DeliveryStatus.FAILED, "Re-engagement message")
    ]


@pytest.mark.parametrize(
    "body",
    [None, [], {"object": "page"}, {"object": "whatsapp_business_account", "entry": "x"}],
    ids=["null", "list", "another object", "bad entry"],
)
def test_a_malformed_or_unsupported_payload_is_skipped_never_raised(body: object) -> None:
    items = ADAPTER.parse(body)

    assert all(isinstance(item, Ignored) for item in items)


def test_a_message_without_sender_is_skipped() -> None:
    [item] = ADAPTER.parse(payload("text", **{"from": None}))

    assert isinstance(item, Ignored)


def _outbound(text: str, options: list[str]) -> Outbound:
    return Outbound(
        id=1,
        channel_id=1,
        conversation_id=1,
        contact_id=1,
        external_id="16505551234",
        text=text,
        quick_replies=options,
        author_kind="workflow",
        author_agent_id=None,
        created_at=dt.datetime(2026, 12, 3),
        attempt=1,
    )


def test_up_to_three_short_options_are_reply_buttons() -> None:
    body = message_body(_outbound("Sales or support?", ["Sales", "Support"]))

    assert body["type"] == "interactive"
    assert body["interactive"]["type"] == "button"
    assert [b["reply"]["title"] for b in body["interactive"]["action"]["buttons"]] == ["Sales", "Support"]


def test_more_options_are_a_list_and_beyond_ten_numbered_text() -> None:
    listed = message_body(_outbound("Pick one", [f"Option {n}" for n in range(5)]))
    numbered = message_body(_outbound("Pick one", [f"Option {n}" for n in range(12)]))

    assert listed["interactive"]["type"] == "list"
    assert len(listed["interactive"]["action"]["sections"][0]["rows"]) == 5
    assert numbered["type"] == "text"
    assert numbered["text"]["body"].splitlines()[:3] == ["Pick one", "1. Option 0", "2. Option 1"]


def test_a_phone_number_id_must_be_digits_and_other_types_settings_are_refused() -> None:
    assert ADAPTER.check_config({"phone_number_id": "106540352242922"}) == {"phone_number_id": "106540352242922"}
    with pytest.raises(InvalidInput):
        ADAPTER.check_config({"phone_number_id": "not digits"})
    with pytest.raises(InvalidInput):
        ADAPTER.check_config({"callback_url": "https://example.test"})
