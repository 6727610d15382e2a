"""Webhooks read their channel from a per-process cache (the sealed credentials are opened once per
cache period): a credential changed through the API or the admin page applies at once all the same."""

from __future__ import annotations

from tests.channels import telegram_support as tg
from tests.channels import whatsapp_support as wa
from tests.channels.test_whatsapp_admin_page import csrf, logged_in_admin
from tests.factories import Api


def test_a_new_app_secret_verifies_the_next_webhook_and_the_old_one_no_longer(admin: Api) -> None:
    channel = wa.create_channel(admin)
    assert wa.post_webhook(admin, channel["id"], wa.payload("text", id="wamid.cache1")).status_code == 200

    admin.patch(f"/api/v1/channels/{channel['id']}", {"app_secret": "rotated-app-secret"})
    raw = b'{"object":"whatsapp_business_account","entry":[]}'

    assert wa.post_webhook(admin, channel["id"], raw).status_code == 401
    assert wa.post_webhook(admin, channel["id"], raw, wa.sign(raw, "rotated-app-secret")).status_code == 200


def test_a_webhook_secret_saved_on_the_admin_page_applies_to_the_next_update(admin: Api) -> None:
    channel = tg.create_channel(admin)
    assert tg.post_update(admin, channel["id"], tg.update("text")).status_code == 200
    client = logged_in_admin(admin)
    token = csrf(client.get(f"/admin/channels/{channel['id']}").text)

    client.post(
        f"/admin/channels/{channel['id']}", data={"_csrf_token": token, "name": "Bot", "webhook_secret": "new-one"}
    )

    assert tg.post_update(admin, channel["id"], tg.update("text", update_id=2)).status_code == 401
    assert tg.post_update(admin, channel["id"], tg.update("text", update_id=3), "new-one").status_code == 200
