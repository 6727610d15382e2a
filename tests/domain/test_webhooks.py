"""What a webhook subscriber receives and when a failed delivery is tried again: pure rules."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from standardwebhooks import Webhook

from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.records import Event
from frontdesk.domain.webhooks import (
    MAX_DELAY_SECONDS,
    MAX_RETRY_AFTER_SECONDS,
    body,
    check_event_types,
    new_secret,
    retry_delay,
    signed_headers,
)

EVENT = Event(
    id=7,
    type="message.received",
    contact_id=3,
    conversation_id=5,
    payload={"message_id": 11, "channel_id": 1, "text": "Hi"},
    created_at=dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC),
)


def test_a_delivery_is_the_event_as_type_timestamp_and_data_with_its_ids() -> None:
    assert json.loads(body(EVENT)) == {
        "type": "message.received",
        "timestamp": "2026-12-03T09:30:00Z",
        "data": {"message_id": 11, "channel_id": 1, "text": "Hi", "event_id": 7, "contact_id": 3, "conversation_id": 5},
    }


def test_the_signature_verifies_with_the_standard_webhooks_library_and_the_id_comes_from_the_event() -> None:
    secret, content, at = new_secret(), body(EVENT), dt.datetime.now(dt.UTC)

    headers = signed_headers(secret, EVENT.id, at, content)

    assert headers["webhook-id"] == "evt_7"
    assert headers["webhook-timestamp"] == str(int(at.timestamp()))
    assert Webhook(secret).verify(content, headers)["data"]["event_id"] == 7
    assert secret.startswith("whsec_") and secret != new_secret()


def test_backoff_doubles_with_jitter_up_to_six_hours() -> None:
    for attempt in range(1, 30):
        delay = retry_delay(attempt, None, 5.0)
        full = min(5.0 * 2 ** (attempt - 1), MAX_DELAY_SECONDS)
        assert full / 2 <= delay <= full


def test_a_receivers_retry_after_is_honoured_up_to_the_cap() -> None:
    assert retry_delay(1, 120.0, 5.0) == 120.0
    assert retry_delay(1, 10**9, 5.0) == MAX_RETRY_AFTER_SECONDS
    assert retry_delay(1, 0.0, 5.0) <= 5.0  # none given: the backoff


def test_event_types_are_checked_against_the_log_s_types() -> None:
    assert check_event_types(["message.sent", "contact.created", "message.sent"]) == ["contact.created", "message.sent"]
    with pytest.raises(InvalidInput, match=r"'message\.teleported' is not an event type") as refused:
        check_event_types(["message.teleported"])
    assert refused.value.field == "event_types"
    with pytest.raises(InvalidInput):
        check_event_types([])
