"""FRONTDESK_PUBLIC_URL: the webhook URLs the channel pages show, and what Telegram's `setWebhook` is
given — by the admin page's "Register webhook" button and by `frontdesk channels telegram-webhook`."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from frontdesk.settings import Settings
from tests.channels import telegram_support as tg
from tests.channels import whatsapp_support as wa
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.conftest import FRONTDESK
from tests.factories import Api

PUBLIC = "https://support.example.test"


@pytest.fixture
def bot_api() -> Iterator[tg.FakeBotApi]:
    fake = tg.FakeBotApi()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, bot_api: tg.FakeBotApi) -> Settings:
    return Settings(database_url=db_url, log_format="text", telegram_base_url=bot_api.url, public_url=PUBLIC + "/")


def register(admin: Api, channel_id: int) -> str:
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel_id}").text)
    page = client.post(f"/admin/channels/{channel_id}/webhook", data={"_csrf_token": token})
    assert page.status_code == 200, page.text
    return page.text


def test_the_channel_pages_show_webhook_urls_at_the_public_url(admin: Api) -> None:
    whatsapp, telegram = wa.create_channel(admin), tg.create_channel(admin)
    client = logged_in_admin(admin)

    pages = [client.get(f"/admin/channels/{c['id']}").text for c in (whatsapp, telegram)]

    assert f"{PUBLIC}/webhooks/whatsapp/{whatsapp['id']}" in pages[0]
    assert f"{PUBLIC}/webhooks/telegram/{telegram['id']}" in pages[1]
    assert f"--public-url {PUBLIC}<" in pages[1]
    assert "testserver" not in pages[0] + pages[1]


def test_the_register_button_sets_telegrams_webhook_at_the_public_url(admin: Api, bot_api: tg.FakeBotApi) -> None:
    channel = tg.create_channel(admin)

    html = register(admin, channel["id"])

    [request] = bot_api.sent
    assert request.problem is None
    assert request.body == {
        "url": f"{PUBLIC}/webhooks/telegram/{channel['id']}",
        "secret_token": tg.WEBHOOK_SECRET,
        "allowed_updates": ["message", "callback_query"],
    }
    assert f"Webhook set:</strong> Telegram will post updates to {PUBLIC}/webhooks/telegram/{channel['id']}" in html
    assert tg.BOT_TOKEN not in html and tg.WEBHOOK_SECRET not in html


def test_the_register_button_shows_telegrams_refusal_plainly(admin: Api) -> None:
    channel = tg.create_channel(admin)
    admin.patch(f"/api/v1/channels/{channel['id']}", {"bot_token": "999:revoked"})

    html = register(admin, channel["id"])

    assert "Not set:</strong> Telegram answered HTTP 404: Not Found: unknown token" in html
    assert "999:revoked" not in html


def test_only_a_telegram_channel_has_a_webhook_to_register(admin: Api) -> None:
    channel = wa.create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)

    page = client.post(f"/admin/channels/{channel['id']}/webhook", data={"_csrf_token": token})

    assert page.status_code == 404
    assert "Register webhook" not in client.get(f"/admin/channels/{channel['id']}").text


def test_the_cli_registers_at_the_public_url_setting_when_not_given_one(
    db_url: str, bot_api: tg.FakeBotApi, admin: Api
) -> None:
    channel: dict[str, Any] = tg.create_channel(admin)
    env = {
        **os.environ,
        "FRONTDESK_DATABASE_URL": db_url,
        "FRONTDESK_TELEGRAM_BASE_URL": bot_api.url,
        "FRONTDESK_PUBLIC_URL": PUBLIC,
    }

    result = subprocess.run(
        [str(FRONTDESK), "channels", "telegram-webhook", str(channel["id"])],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"webhook set: {PUBLIC}/webhooks/telegram/{channel['id']}"


def test_the_cli_without_a_public_url_nor_the_setting_says_what_it_needs(db_url: str, bot_api: tg.FakeBotApi) -> None:
    env = {**os.environ, "FRONTDESK_DATABASE_URL": db_url, "FRONTDESK_TELEGRAM_BASE_URL": bot_api.url}
    env.pop("FRONTDESK_PUBLIC_URL", None)

    result = subprocess.run(
        [str(FRONTDESK), "channels", "telegram-webhook", "1"], env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 2
    assert "--public-url: an http(s) URL (or set FRONTDESK_PUBLIC_URL)" in result.stderr
    assert bot_api.sent == []
