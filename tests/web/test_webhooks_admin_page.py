"""The webhooks admin pages in real Chromium: an admin subscribes a URL to event types and sees
its secret once; a private address is named and nothing is created; a subscription that failures
disabled is shown on the overview and re-enabled from its page."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from frontdesk.store.database import Database
from tests.conftest import LiveServer
from tests.engine.webhook_support import failing_for_two_days
from tests.web.support import api, login

PUBLIC_URL = "https://93.184.215.14/hook"  # an address literal: nothing is resolved
QUIET = "webhook.disabled"  # nothing here causes one to this subscription: nothing is sent


def _hooks(server: LiveServer) -> list[dict[str, object]]:
    with api(server) as client:
        return list(client.get("/api/v1/webhooks").json())


def test_an_admin_subscribes_a_url_and_sees_its_secret_once(page: Page, live_server: LiveServer) -> None:
    login(page, live_server, live_server.email, live_server.password, target="/admin/outgoing-webhooks")

    page.get_by_label("URL (http or https, a public address)").fill("http://192.168.1.20/hook")
    page.get_by_label(QUIET).check()
    page.get_by_role("button", name="Subscribe").click()

    expect(page.get_by_role("alert")).to_contain_text("192.168.1.20")
    expect(page.get_by_label("URL (http or https, a public address)")).to_have_attribute("aria-invalid", "true")
    assert _hooks(live_server) == []

    page.get_by_label("URL (http or https, a public address)").fill(PUBLIC_URL)
    page.get_by_role("button", name="Subscribe").click()

    secret = page.get_by_role("textbox", name="The secret").input_value()
    assert secret.startswith("whsec_")
    (hook,) = _hooks(live_server)
    assert (hook["url"], hook["event_types"]) == (PUBLIC_URL, [QUIET])
    page.get_by_role("link", name=PUBLIC_URL).click()
    assert secret not in page.content()  # never shown again
    expect(page.locator("#webhook-status")).to_have_text("enabled")


def test_a_disabled_subscription_is_on_the_overview_and_is_re_enabled_from_its_page(
    page: Page, live_server: LiveServer
) -> None:
    db = Database(live_server.db_url)
    db.start()
    try:  # a loopback URL the server's guard refuses: nothing is ever sent
        hook_id = db.write_sync(lambda c: failing_for_two_days(c, "http://127.0.0.1:9/hook", ["contact.created"]))
    finally:
        db.close()
    login(page, live_server, live_server.email, live_server.password, target="/admin")

    expect(page.get_by_role("alert")).to_contain_text("http://127.0.0.1:9/hook")
    page.get_by_role("link", name="http://127.0.0.1:9/hook").click()
    expect(page.locator("#webhook-status")).to_contain_text("disabled on")
    page.get_by_role("button", name="Enable").click()

    expect(page.locator("#webhook-status")).to_have_text("enabled")
    with api(live_server) as client:
        shown = client.get(f"/api/v1/webhooks/{hook_id}").json()
    assert shown["enabled"] is True and shown["disabled_at"] is None
