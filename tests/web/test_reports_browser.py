"""The reports page in real Chromium on a live server with its worker: a manager finds it in the
navigation and sees a conversation the demo's contact just had, counted and drawn."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.web.support import add_person, api, login, say

MIA = "mia@reports.frontdesk.local"


def _close(server: LiveServer, conversation_id: int) -> None:
    with api(server) as client:
        closed = client.post(f"/api/v1/conversations/{conversation_id}/close", json={"category": "billing"})
    assert closed.status_code == 200, closed.text


def test_a_manager_opens_the_reports_from_the_navigation_and_sees_todays_conversations(
    page: Page, screenshot: Callable[..., None], live_server: LiveServer
) -> None:
    add_person(live_server, "Mia Boss", MIA, role="manager")
    _close(live_server, say(live_server, "ada", "r-1", "My invoice is wrong", name="Ada"))
    say(live_server, "bob", "r-2", "Hello?", name="Bob")
    login(page, live_server, MIA, target="/admin")

    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name="Conversations")).to_be_visible()
    for _ in range(20):  # the worker folds the log within a second or so
        if page.locator("#total-closed").inner_text() == "1":
            break
        page.wait_for_timeout(250)
        page.reload()

    expect(page.locator("#total-opened")).to_have_text("2")
    expect(page.locator("#total-closed")).to_have_text("1")
    expect(page.get_by_role("img", name="Conversations opened and closed per day")).to_be_visible()
    expect(page.get_by_role("cell", name="billing")).to_be_visible()
    csv = page.get_by_role("link", name="Download as CSV").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert "totals,,,opened,2" in httpx.get(f"{live_server.base_url}{csv}", cookies=cookies).text
    screenshot(page, "reports.png", full_page=True)
