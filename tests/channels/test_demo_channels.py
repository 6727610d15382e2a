"""The demo's WhatsApp and Telegram channels: configured against nothing, made once, and their
check says plainly that the provider could not be reached (or refused the placeholders)."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient

from frontdesk.demo import load_demo
from frontdesk.settings import Settings
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.conftest import free_port
from tests.factories import Api, make_token


@pytest.fixture
def settings(db_url: str) -> Settings:
    """Both providers on a closed port: the demo's placeholders never leave this machine."""
    closed = f"http://127.0.0.1:{free_port()}"
    return Settings(database_url=db_url, log_format="text", whatsapp_graph_base_url=closed, telegram_base_url=closed)


def demo(client: TestClient) -> Api:  # type: ignore[type-arg]
    client.app.state.db.write_sync(load_demo)
    return Api(client, make_token(client.app.state.db, "admin"))


def test_the_demo_has_one_whatsapp_and_one_telegram_channel_however_often_it_loads(client: TestClient) -> None:  # type: ignore[type-arg]
    admin = demo(client)
    assert client.app.state.db.write_sync(load_demo) is False

    channels = admin.get("/api/v1/channels").json()

    assert [(c["type"], c["name"]) for c in channels] == [
        ("api", "Website API"),
        ("webchat", "Website chat"),
        ("whatsapp", "WhatsApp demo"),
        ("telegram", "Telegram demo"),
        ("email", "E-mail demo"),
    ]


def test_the_demo_channels_check_says_the_provider_could_not_be_reached(client: TestClient) -> None:  # type: ignore[type-arg]
    admin = demo(client)
    ids = {c["type"]: c["id"] for c in admin.get("/api/v1/channels").json()}

    answers = [admin.post(f"/api/v1/channels/{ids[kind]}/check").json() for kind in ("whatsapp", "telegram")]

    assert [a["outcome"] for a in answers] == ["failed", "failed"]
    assert answers[0]["detail"].startswith("could not reach the WhatsApp Graph API at http://127.0.0.1:")
    assert answers[1]["detail"].startswith("could not reach the Telegram Bot API at http://127.0.0.1:")


def test_the_demo_whatsapp_page_shows_its_webhook_url_and_its_check_button(client: TestClient) -> None:  # type: ignore[type-arg]
    admin = demo(client)
    whatsapp_id = next(c["id"] for c in admin.get("/api/v1/channels").json() if c["type"] == "whatsapp")
    browser = logged_in_admin(admin)

    html = browser.get(f"/admin/channels/{whatsapp_id}").text
    checked = browser.post(f"/admin/channels/{whatsapp_id}/check", data={"_csrf_token": csrf(html)})

    assert f"http://testserver.local/webhooks/whatsapp/{whatsapp_id}" in html
    assert ">Check</button>" in html
    assert "Not working:</strong> could not reach the WhatsApp Graph API" in checked.text
