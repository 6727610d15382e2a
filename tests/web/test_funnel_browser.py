"""The workflow funnel in real Chromium on a live server with its worker: a manager goes from the
reports to the demo workflow's funnel and sees the contacts who just wrote counted on its drawing,
the one whose conversation was closed while the question waited marked as abandoned."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.conftest import LiveServer
from tests.web.support import add_person, api, login, say

MIA = "mia@funnel.frontdesk.local"


def test_a_manager_finds_where_contacts_gave_up_on_the_demo_workflow(
    page: Page, screenshot: Callable[..., None], live_server: LiveServer
) -> None:
    add_person(live_server, "Mia Boss", MIA, role="manager")
    conversations = [
        ("ada", "Ada", ["Hello", "Sales", "no", "still no", "nope"]),  # no valid e-mail: on to the hours
        ("cid", "Cid", ["Hi", "Billing"]),  # waits at the e-mail question
        ("eve", "Eve", ["Hey", "pizza", "pasta", "soup"]),  # no valid topic: to Support
    ]
    for who, name, texts in conversations:
        for n, text in enumerate(texts):
            say(live_server, who, f"{who}-{n}", text, name=name)
    gone = say(live_server, "bob", "f-5", "Hello?", name="Bob")
    with api(live_server) as client:
        for _ in range(40):  # the question must wait before the conversation is closed
            runs = client.get("/api/v1/runs", params={"conversation_id": gone}).json()
            if runs and runs[0]["status"] == "waiting":
                break
            page.wait_for_timeout(250)
        assert client.post(f"/api/v1/conversations/{gone}/close", json={}).status_code == 200
    login(page, live_server, MIA, target="/reports")

    page.get_by_role("link", name="Inbound conversations").click()
    expect(page.get_by_role("heading", name="Funnel of Inbound conversations")).to_be_visible()
    for _ in range(40):  # the worker folds the run steps within a second or so
        if (
            page.locator("#runs").inner_text() == "4"
            and "1 abandoned" in page.content()
            and "sales (1)" in page.content()
        ):
            break
        page.wait_for_timeout(250)
        page.reload()

    expect(page.locator("#runs")).to_have_text("4")
    ask = page.locator("#funnel-steps tr[data-step='ask_topic'] td")
    expect(ask.nth(1)).to_have_text("4")  # came to the question
    expect(ask.nth(4)).to_have_text("1")  # abandoned there
    expect(page.locator("svg.flow g.step.alert[data-step='ask_topic']")).to_be_visible()
    screenshot(page, "funnel.png", full_page=True)
