"""The Twilio adapter on its own: Twilio's documented webhook fields as items, STOP/START keywords,
status callbacks, a parser that never raises, and the check of an account's credentials."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as examples
from hypothesis import strategies as st

from frontdesk.channels.base import Ignored, InboundItem, Notice, StatusUpdate
from frontdesk.channels.twilio import ADAPTER, SIGNED_URL
from frontdesk.channels.twilio_inbound import opt_out
from frontdesk.domain.model import DeliveryStatus
from frontdesk.settings import Settings
from tests.channels.twilio_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    CONTACT_NUMBER,
    FakeTwilio,
    create_channel,
    signature,
    webhook,
)
from tests.conftest import free_port
from tests.factories import Api

URL = "https://frontdesk.example/webhooks/twilio/1"


def test_an_sms_is_a_message_from_the_senders_number_under_its_sid() -> None:
    [item] = ADAPTER.parse(webhook("sms"))

    assert item == InboundItem(CONTACT_NUMBER, "SM1c5e9b4a3d2f0e1a2b3c4d5e6f7a8b9c", "Do you deliver on Sundays?")


def test_an_mms_carries_its_media_url_and_declared_type_to_fetch() -> None:
    [item] = ADAPTER.parse(webhook("mms", "https://api.twilio.com"))

    assert isinstance(item, InboundItem)
    [attachment] = item.attachments
    assert (attachment.kind, attachment.state, attachment.mime_type) == ("image", "pending", "image/jpeg")
    assert attachment.provider_media_id == webhook("mms", "https://api.twilio.com")["MediaUrl0"]


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        ("sent", None, StatusUpdate("SM00000000000000000000000000000001", DeliveryStatus.SENT)),
        ("delivered", None, StatusUpdate("SM00000000000000000000000000000001", DeliveryStatus.DELIVERED)),
        (
            "failed",
            "30007",
            StatusUpdate(
                "SM00000000000000000000000000000001",
                DeliveryStatus.FAILED,
                "failed: Twilio error 30007 (filtered as spam by the carrier)",
            ),
        ),
        (
            "undelivered",
            None,
            StatusUpdate(
                "SM00000000000000000000000000000001", DeliveryStatus.FAILED, "Twilio reported the message undelivered"
            ),
        ),
    ],
)
def test_a_status_callback_is_a_receipt_for_the_message_it_names(
    status: str, code: str | None, expected: StatusUpdate
) -> None:
    form = webhook("status", MessageStatus=status, SmsStatus=status)
    if code:
        form["ErrorCode"] = code

    assert ADAPTER.parse(form) == [expected]


@pytest.mark.parametrize("status", ["queued", "accepted", "sending", "scheduled"])
def test_a_status_before_sent_is_skipped(status: str) -> None:
    [item] = ADAPTER.parse(webhook("status", MessageStatus=status))

    assert isinstance(item, Ignored)


@pytest.mark.parametrize(
    ("body", "kind", "opted_out"),
    [
        ("STOP", "", True),
        ("stopall", "", True),
        (" Cancel\n", "", True),
        ("start", "", False),
        ("UNSTOP", "", False),
        ("Arrêt", "STOP", True),
        ("oui", "START", False),
    ],
    ids=["STOP", "stopall", "Cancel", "start", "UNSTOP", "OptOutType STOP", "OptOutType START"],
)
def test_opt_out_keywords_are_notices_not_messages(body: str, kind: str, opted_out: bool) -> None:
    form = webhook("stop", Body=body, OptOutType=kind)

    [item] = ADAPTER.parse(form)
    change = opt_out(form)

    assert isinstance(item, Notice)
    assert change is not None and change.opted_out is opted_out and change.external_id == CONTACT_NUMBER


@pytest.mark.parametrize("body", ["stop it please", "STOP!", "Yes please", "HELP"])
def test_a_message_that_only_mentions_a_keyword_is_a_message(body: str) -> None:
    form = webhook("stop", Body=body, OptOutType="")

    assert isinstance(ADAPTER.parse(form)[0], InboundItem)
    assert opt_out(form) is None


def test_the_signature_covers_the_url_and_every_field() -> None:
    form = webhook("sms")
    body = "&".join(f"{k}={v}" for k, v in form.items()).replace("+", "%2B").encode()
    signed = {"x-twilio-signature": signature(URL, form), SIGNED_URL: URL}

    assert ADAPTER.verify([AUTH_TOKEN], signed, body, 0) is None
    assert ADAPTER.verify(["other"], signed, body, 0) is not None
    assert ADAPTER.verify([AUTH_TOKEN], {**signed, SIGNED_URL: URL + "0"}, body, 0) is not None
    assert ADAPTER.verify([AUTH_TOKEN], {SIGNED_URL: URL}, body, 0) == "missing x-twilio-signature header"


FIELDS = ["MessageSid", "From", "Body", "NumMedia", "MediaUrl0", "MediaContentType0", "MessageStatus", "ErrorCode"]


@examples(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*FIELDS, "OptOutType", "MediaUrl9"]), st.text(max_size=30)))
def test_the_parser_never_raises(form: dict[str, str]) -> None:
    for item in ADAPTER.parse(form):
        assert isinstance(item, InboundItem | StatusUpdate | Ignored | Notice)
        if isinstance(item, InboundItem):
            assert item.text or item.attachments


# -- the check ---------------------------------------------------------------------------------
@pytest.fixture
def twilio_api() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def reachable() -> bool:
    return True


@pytest.fixture
def settings(db_url: str, twilio_api: FakeTwilio, reachable: bool) -> Settings:
    return Settings(
        database_url=db_url,
        log_format="text",
        twilio_base_url=twilio_api.url if reachable else f"http://127.0.0.1:{free_port()}",
    )


def check(admin: Api, channel_id: int) -> dict[str, Any]:
    response = admin.post(f"/api/v1/channels/{channel_id}/check")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_an_account_twilio_knows_is_checked_ok_with_its_name_and_never_its_token(admin: Api) -> None:
    channel = create_channel(admin)

    answer = check(admin, channel["id"])

    assert answer["outcome"] == "ok"
    assert answer["detail"] == f"Frontdesk Test, account {ACCOUNT_SID} (active)"
    assert answer["identity"] == {
        "sid": ACCOUNT_SID,
        "friendly_name": "Frontdesk Test",
        "status": "active",
        "type": "Full",
    }
    assert AUTH_TOKEN not in str(answer)


def test_an_auth_token_twilio_refuses_fails_the_check_with_twilios_reason(admin: Api) -> None:
    channel = create_channel(admin)
    admin.patch(f"/api/v1/channels/{channel['id']}", {"auth_token": "revoked-token"})

    answer = check(admin, channel["id"])

    assert answer["outcome"] == "failed"
    assert answer["detail"] == "Twilio refused the account SID or auth token (HTTP 401: error 20003: Authenticate)"
    assert "revoked-token" not in str(answer)


@pytest.mark.parametrize("reachable", [False])
def test_an_unreachable_twilio_fails_the_check_naming_where_it_was_tried(admin: Api, settings: Settings) -> None:
    answer = check(admin, create_channel(admin)["id"])

    assert answer["detail"] == f"could not reach the Twilio API at {settings.twilio_base_url} (ConnectError)"
