"""The admin's channel page for a Messenger or Instagram channel: the webhook URL to paste with
the verify token, the page id, credentials that can be replaced but are never shown, the check."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from frontdesk.settings import Settings
from tests.channels.meta_support import (
    ACCESS_TOKEN,
    APP_SECRET,
    PAGE_ID,
    PAGE_NAME,
    VERIFY_TOKEN,
    FakeMetaGraph,
    create_channel,
    payload,
    post_webhook,
    sign,
)
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.factories import Api

PUBLIC_URL = "https://frontdesk.example"


@pytest.fixture
def graph() -> Iterator[FakeMetaGraph]:
    fake = FakeMetaGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeMetaGraph) -> Settings:
    return Settings(database_url=db_url, log_format="text", meta_graph_base_url=graph.url, public_url=PUBLIC_URL)


@pytest.mark.parametrize(("channel_type", "label"), [("messenger", "Messenger"), ("instagram", "Instagram")])
def test_the_page_shows_the_webhook_url_and_the_page_id_and_never_the_credentials(
    admin: Api, channel_type: str, label: str
) -> None:
    channel = create_channel(admin, channel_type)
    client = logged_in_admin(admin)

    html = client.get(f"/admin/channels/{channel['id']}").text

    assert f"{PUBLIC_URL}/webhooks/meta/{channel['id']}" in html
    assert f'value="{PAGE_ID}"' in html
    assert "Rotate the secret" not in html
    assert all(secret not in html for secret in (ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN))
    assert label in client.get("/admin/channels").text


def test_saving_keeps_blank_credentials_and_a_typed_app_secret_replaces_it(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)
    form = {"_csrf_token": token, "name": "Shop page", "page_id": "42", "access_token": "", "app_secret": ""}

    saved = client.post(f"/admin/channels/{channel['id']}", data=form)
    assert saved.status_code in (200, 303), saved.text
    assert post_webhook(admin, channel["id"], payload("text")).status_code == 200

    client.post(f"/admin/channels/{channel['id']}", data={**form, "app_secret": "typed-anew"})

    found = admin.get(f"/api/v1/channels/{channel['id']}").json()
    assert (found["name"], found["config"]["page_id"]) == ("Shop page", "42")
    raw = b'{"object": "page", "entry": []}'
    assert post_webhook(admin, channel["id"], raw).status_code == 401
    assert post_webhook(admin, channel["id"], raw, headers=sign(raw, "typed-anew")).status_code == 200


def test_a_malformed_page_id_is_refused_on_the_page_naming_it(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)

    page = client.post(f"/admin/channels/{channel['id']}", data={"_csrf_token": token, "name": "M", "page_id": "x1"})

    assert "page_id" in page.text
    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["config"]["page_id"] == PAGE_ID


def test_the_check_button_names_the_page(admin: Api) -> None:
    channel = create_channel(admin, "instagram")
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)

    page = client.post(f"/admin/channels/{channel['id']}/check", data={"_csrf_token": token})

    assert "Working" in page.text
    assert f"page {PAGE_NAME} ({PAGE_ID})".replace("'", "&#39;") in page.text
