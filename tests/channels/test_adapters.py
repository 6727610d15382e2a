"""The channel adapters' contract, as the API and web-chat channels implement it."""

from __future__ import annotations

import datetime as dt

import pytest

from frontdesk.channels import ADAPTERS, signing, webchat
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import ChannelType

NOW = 1_800_000_000
BODY = b'{"contact": {"external_id": "c-1"}, "message": {"id": "m-1", "text": "Hi"}}'
API = ADAPTERS[ChannelType.API]
WEBCHAT = ADAPTERS[ChannelType.WEBCHAT]


def test_an_api_request_signed_with_the_previous_secret_verifies_during_a_rotation() -> None:
    headers = signing.signed_headers("old", BODY, now=NOW)

    assert API.verify(("new", "old"), headers, BODY, NOW) is None
    assert API.verify(("new",), headers, BODY, NOW) == "signature does not match the body"


def test_an_unsigned_api_request_is_refused_with_the_missing_header_named() -> None:
    assert API.verify(("secret",), {}, BODY, NOW) == ("missing x-frontdesk-timestamp or x-frontdesk-signature header")


def test_the_api_channel_parses_its_inbound_body_into_one_normalized_message() -> None:
    payload = {"contact": {"external_id": "c-1", "name": "Ada"}, "message": {"id": "m-1", "text": "Hi"}}

    (item,) = API.parse(payload)

    assert (item.external_id, item.provider_message_id, item.text) == ("c-1", "m-1", "Hi")
    assert (item.contact_name, item.contact_fields) == ("Ada", {})


def test_two_visitors_choosing_the_same_client_id_get_different_provider_ids() -> None:
    first = WEBCHAT.parse({"visitor_id": "visitor-a", "client_id": "1", "text": "Hi"})
    second = WEBCHAT.parse({"visitor_id": "visitor-b", "client_id": "1", "text": "Hi"})

    assert first[0].provider_message_id != second[0].provider_message_id


def test_a_web_chat_request_verifies_by_its_visitor_token() -> None:
    visitor = "v" * 20
    token = webchat.visitor_token("secret", visitor, dt.datetime.fromtimestamp(NOW + 60, dt.UTC))

    assert WEBCHAT.verify(("secret",), {"authorization": f"Bearer {token}"}, b"", NOW) is None
    assert WEBCHAT.verify(("other",), {"authorization": f"Bearer {token}"}, b"", NOW) == (
        "the visitor token does not match this channel"
    )


@pytest.mark.parametrize(
    ("channel_type", "foreign"),
    [(ChannelType.API, {"allowed_origins": []}), (ChannelType.WEBCHAT, {"callback_url": "https://example.com/hook"})],
)
def test_a_setting_of_another_channel_type_is_refused_not_ignored(
    channel_type: ChannelType, foreign: dict[str, object]
) -> None:
    with pytest.raises(InvalidInput, match=r"^(allowed_origins|callback_url): "):
        ADAPTERS[channel_type].check_config(foreign)
