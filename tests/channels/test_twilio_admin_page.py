"""The admin's channel page for a Twilio channel: the webhook URL to paste into Twilio's console,
the account and its sender, an auth token that can be replaced but is never shown, the check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from frontdesk.settings import Settings
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.channels.twilio_support import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    PUBLIC_URL,
    SERVICE_SID,
    FakeTwilio,
    create_channel,
    post_webhook,
    webhook,
)
from tests.factories import Api


@pytest.fixture
def twilio_api() -> Iterator[FakeTwilio]:
    fake = FakeTwilio()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, twilio_api: FakeTwilio) -> Settings:
    return Settings(database_url=db_url, log_format="text", twilio_base_url=twilio_api.url, public_url=PUBLIC_URL)


def test_the_page_shows_the_webhook_url_and_the_sender_and_never_the_auth_token(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)

    html = client.get(f"/admin/channels/{channel['id']}").text

    assert f"{PUBLIC_URL}/webhooks/twilio/{channel['id']}" in html
    assert f'value="{ACCOUNT_SID}"' in html and f'value="{FROM_NUMBER}"' in html
    assert "Rotate the secret" not in html
    assert AUTH_TOKEN not in html
    assert "SMS (Twilio)" in client.get("/admin/channels").text


def test_saving_keeps_a_blank_auth_token_and_a_typed_one_replaces_it(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)
    form = {"_csrf_token": token, "name": "Shop SMS", "account_sid": ACCOUNT_SID, "from_number": ""}
    form["messaging_service_sid"] = SERVICE_SID

    saved = client.post(f"/admin/channels/{channel['id']}", data=form)
    assert saved.status_code in (200, 303), saved.text
    assert post_webhook(admin, channel["id"], webhook("sms")).status_code == 200

    client.post(f"/admin/channels/{channel['id']}", data={**form, "auth_token": "typed-anew"})

    found = admin.get(f"/api/v1/channels/{channel['id']}").json()
    assert (found["name"], found["config"]["from_number"], found["config"]["messaging_service_sid"]) == (
        "Shop SMS",
        None,
        SERVICE_SID,
    )
    assert post_webhook(admin, channel["id"], webhook("sms", MessageSid="SM2")).status_code == 401
    assert post_webhook(admin, channel["id"], webhook("sms", MessageSid="SM2"), "typed-anew").status_code == 200


def test_a_malformed_account_sid_is_refused_on_the_page_naming_it(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)

    page = client.post(
        f"/admin/channels/{channel['id']}", data={"_csrf_token": token, "name": "SMS", "account_sid": "AC12"}
    )

    assert 'aria-invalid="true"' in page.text and "account_sid" in page.text
    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]["account_sid"] == ACCOUNT_SID


def test_the_check_button_shows_the_accounts_name(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)

    page = client.post(f"/admin/channels/{channel['id']}/check", data={"_csrf_token": token})

    assert page.status_code == 200, page.text
    assert f"Working:</strong> Frontdesk Test, account {ACCOUNT_SID} (active)" in page.text
    assert AUTH_TOKEN not in page.text
