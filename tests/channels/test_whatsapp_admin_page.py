"""The admin's channel page for a WhatsApp channel: the webhook URL to paste, the phone number id,
and credentials that can be replaced but are never shown."""

from __future__ import annotations

import re

from litestar.testing import TestClient

from frontdesk.actions.sessions import set_password
from tests.channels.whatsapp_support import (
    ACCESS_TOKEN,
    APP_SECRET,
    VERIFY_TOKEN,
    create_channel,
    payload,
    post_webhook,
    sign,
)
from tests.factories import Api, make_agent

PASSWORD = "a long enough password"


def logged_in_admin(admin: Api) -> TestClient:  # type: ignore[type-arg]
    agent_id = make_agent(admin.db, "admin", email="owner@example.test")
    admin.db.write_sync(lambda c: set_password(c, agent_id, PASSWORD))
    client = admin.client
    token = csrf(client.get("/login").text)
    response = client.post("/login", data={"email": "owner@example.test", "password": PASSWORD, "_csrf_token": token})
    assert response.status_code in (200, 302, 303), response.text
    return client


def csrf(html: str) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF token"
    return found[1]


def test_the_page_shows_the_webhook_url_and_never_the_credentials(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)

    html = client.get(f"/admin/channels/{channel['id']}").text

    assert f"/webhooks/whatsapp/{channel['id']}" in html
    assert channel["config"]["phone_number_id"] in html
    assert all(secret not in html for secret in (ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN))
    assert "WhatsApp" in client.get("/admin/channels").text


def test_saving_with_blank_credentials_keeps_them_and_a_typed_one_replaces_it(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)
    form = {"_csrf_token": token, "name": "Sales line", "phone_number_id": "42", "access_token": ""}

    saved = client.post(f"/admin/channels/{channel['id']}", data={**form, "app_secret": ""})
    assert saved.status_code in (200, 303), saved.text
    assert post_webhook(admin, channel["id"], payload("text")).status_code == 200

    client.post(f"/admin/channels/{channel['id']}", data={**form, "app_secret": "typed-anew"})

    shown = admin.get(f"/api/v1/channels/{channel['id']}").json()
    assert (shown["name"], shown["config"]["phone_number_id"]) == ("Sales line", "42")
    raw = b'{"object":"whatsapp_business_account","entry":[]}'
    assert post_webhook(admin, channel["id"], raw).status_code == 401
    assert post_webhook(admin, channel["id"], raw, sign(raw, "typed-anew")).status_code == 200


def test_the_templates_are_edited_one_a_line_and_a_bad_line_is_refused_naming_the_field(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)
    page = f"/admin/channels/{channel['id']}"
    form = {"_csrf_token": csrf(client.get(page).text), "name": "WhatsApp", "phone_number_id": "42"}

    saved = client.post(page, data={**form, "templates": "order_update en_US 2\nhello_world en_US\n"})
    assert saved.status_code in (200, 303), saved.text
    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]["templates"] == [
        {"name": "order_update", "language": "en_US", "parameters": 2},
        {"name": "hello_world", "language": "en_US", "parameters": 0},
    ]
    assert "order_update en_US 2\nhello_world en_US 0" in client.get(page).text

    refused = client.post(page, data={**form, "templates": "Order Update en_US 2"})
    assert refused.status_code == 422, refused.text
    assert "templates" in refused.text
    assert len(admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]["templates"]) == 2
