"""The admin's channel page for a Telegram channel: the webhook URL and the command registering it,
and a bot token and webhook secret that can be replaced but are never shown."""

from __future__ import annotations

from tests.channels.telegram_support import BOT_TOKEN, WEBHOOK_SECRET, create_channel, post_update, update
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.factories import Api


def test_the_page_shows_the_webhook_url_and_command_and_never_the_credentials(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)

    html = client.get(f"/admin/channels/{channel['id']}").text

    assert f"/webhooks/telegram/{channel['id']}" in html
    assert f"frontdesk channels telegram-webhook {channel['id']} --public-url" in html
    assert "Rotate the secret" not in html
    assert all(secret not in html for secret in (BOT_TOKEN, WEBHOOK_SECRET))
    assert "Telegram" in client.get("/admin/channels").text


def test_saving_with_blank_credentials_keeps_them_and_a_typed_secret_replaces_it(admin: Api) -> None:
    channel = create_channel(admin)
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)
    form = {"_csrf_token": token, "name": "Support bot", "bot_token": ""}

    saved = client.post(f"/admin/channels/{channel['id']}", data={**form, "webhook_secret": ""})
    assert saved.status_code in (200, 303), saved.text
    assert post_update(admin, channel["id"], update("text")).status_code == 200

    client.post(f"/admin/channels/{channel['id']}", data={**form, "webhook_secret": "typed-anew"})

    assert admin.get(f"/api/v1/channels/{channel['id']}").json()["name"] == "Support bot"
    assert post_update(admin, channel["id"], update("text", update_id=2)).status_code == 401
    assert post_update(admin, channel["id"], update("text", update_id=2), "typed-anew").status_code == 200
