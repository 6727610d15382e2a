"""The agent inbox in real Chromium: login, live updates, escaping, reply, close, a new conversation,
a long thread read page by page."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import LiveServer


def _say(server: LiveServer, who: str, message_id: str, text: str, name: str | None = None) -> dict[str, object]:
    contact: dict[str, object] = {"external_id": who}
    if name:
        contact["name"] = name
    response = httpx.post(
        f"{server.base_url}/api/v1/channels/1/inbound",
        json={"contact": contact, "message": {"id": message_id, "text": text}},
        headers=server.headers,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def _login(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.base_url}/inbox")
    expect(page).to_have_url(f"{server.base_url}/login?next=/inbox")
    page.fill("#email", server.email)
    page.fill("#password", server.password)
    page.click("button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-live", "on")  # the live stream is connected


def test_wrong_password_is_refused_and_pages_need_a_login(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server.base_url}/inbox/conversations/1")
    expect(page).to_have_url(f"{live_server.base_url}/login?next=/inbox/conversations/1")
    page.fill("#email", live_server.email)
    page.fill("#password", "not the password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text("Wrong e-mail or password.")
    forged = httpx.post(f"{live_server.base_url}/login", data={"email": live_server.email, "password": "x"})
    assert forged.status_code == 403  # no CSRF token: refused before anything is checked


def test_an_agent_sees_a_conversation_arrive_live_replies_and_closes_it(
    page: Page, screenshot: Callable[..., None], live_server: LiveServer
) -> None:
    _login(page, live_server)
    first = _say(live_server, "eve", "m1", "<img src=x onerror=alert(1)> I need help", name="Eve <script>")

    entry = page.locator("#list li", has_text="Eve <script>")
    expect(entry).to_be_visible()  # appeared without a reload
    entry.click()
    expect(page.locator("#messages")).to_contain_text("<img src=x onerror=alert(1)> I need help")
    assert page.locator("#messages img").count() == 0  # shown as text, never as markup
    expect(page.locator("#messages")).to_contain_text("What can we help you with?")  # the workflow asked
    screenshot(page, "inbox.png")

    page.fill("#reply-text", "Hello Eve, I am here.")
    page.click(".reply button")
    expect(page.locator("#messages .msg.out.agent")).to_contain_text("Hello Eve, I am here.")
    _say(live_server, "eve", "m2", "Support")
    expect(page.locator("#messages")).to_contain_text("Support")  # the contact's answer, live
    # The workflow's next question re-renders the thread: wait for it, so that the click below
    # does not land where the close button was before the new message pushed it down.
    expect(page.locator("#messages")).to_contain_text("What is your e-mail address?")

    page.fill("#close-note", "Answered")
    page.fill("#close-category", "support")
    page.click(".close button")
    expect(page.locator(".closed")).to_contain_text("Closed as support: Answered.")

    second = _say(live_server, "eve", "m3", "Me again!")
    assert second["conversation_id"] != first["conversation_id"]
    page.goto(f"{live_server.base_url}/inbox")
    expect(page.locator(f'#list li[data-conversation="{second["conversation_id"]}"]')).to_contain_text("Eve")


def test_availability_toggle_changes_the_agent(page: Page, live_server: LiveServer) -> None:
    _login(page, live_server)

    page.select_option("select[name=availability]", "away")

    expect(page.locator("select[name=availability]")).to_have_value("away")
    agents = httpx.get(f"{live_server.base_url}/api/v1/agents", headers=live_server.headers).json()
    assert next(a for a in agents if a["email"] == live_server.email)["availability"] == "away"


def test_new_contact_messages_show_as_unread_until_the_agent_opens_the_conversation(
    page: Page, live_server: LiveServer
) -> None:
    _login(page, live_server)
    _say(live_server, "bob", "b1", "First", name="Bob")
    _say(live_server, "bob", "b2", "Second")
    entry = page.locator("#list li", has_text="Bob")

    expect(entry.locator(".unread")).to_have_text("2")
    entry.click()
    expect(page.locator("#messages")).to_contain_text("Second")
    page.goto(f"{live_server.base_url}/inbox")
    expect(page.locator("#list li", has_text="Bob").locator(".unread")).to_have_count(0)


def test_the_channel_filter_shows_one_channels_conversations_and_keeps_itself_in_links(
    page: Page, live_server: LiveServer
) -> None:
    made = httpx.post(
        f"{live_server.base_url}/api/v1/channels",
        json={"type": "api", "name": "Shop API"},
        headers=live_server.headers,
    )
    assert made.status_code == 201, made.text
    shop = made.json()["id"]
    _say(live_server, "ann", "a1", "Hello from the main API", name="Ann Main")
    response = httpx.post(
        f"{live_server.base_url}/api/v1/channels/{shop}/inbound",
        json={"contact": {"external_id": "sid", "name": "Sid Shop"}, "message": {"id": "s1", "text": "From the shop"}},
        headers=live_server.headers,
    )
    assert response.status_code == 200, response.text
    _login(page, live_server)
    expect(page.locator("#list")).to_contain_text("Sid Shop")
    expect(page.locator("#list")).to_contain_text("Ann Main")

    page.get_by_label("Channel").select_option(label="Shop API (api)")

    expect(page).to_have_url(f"{live_server.base_url}/inbox?view=all&status=open&team=&channel={shop}")
    expect(page.locator("#list")).to_contain_text("Sid Shop")
    expect(page.locator("#list")).not_to_contain_text("Ann Main")
    page.locator("#list li", has_text="Sid Shop").click()
    expect(page.locator("#messages")).to_contain_text("From the shop")
    expect(page.get_by_label("Channel")).to_have_value(str(shop))  # the open conversation keeps the filter


def test_a_long_thread_opens_at_its_newest_messages_and_earlier_ones_load_on_demand(
    page: Page, live_server: LiveServer
) -> None:
    # 80 of the contact's messages, and the demo workflow's few: more than one page, less than two.
    first = _say(live_server, "lea", "l1", "message 1", name="Lea Long")
    for k in range(2, 81):
        _say(live_server, "lea", f"l{k}", f"message {k}")
    _login(page, live_server)
    page.goto(f"{live_server.base_url}/inbox?view=all&status=open&c={first['conversation_id']}")
    messages = page.locator("#messages")

    expect(messages.locator(".msg", has_text="message 80")).to_be_visible()  # the newest, in view
    expect(messages.get_by_text("message 1", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Earlier messages").click()

    expect(page).to_have_url(re.compile(rf"/inbox\?view=all&status=open&c={first['conversation_id']}&before=\d+$"))
    expect(messages.get_by_text("message 1", exact=True)).to_have_count(1)
    expect(messages.get_by_text("message 80", exact=True)).to_have_count(0)

    # A new message while the agent reads back: the live refresh reloads this page, not the newest.
    page.evaluate("document.getElementById('messages').dataset.stale = '1'")
    with page.expect_response(lambda r: "/inbox/conversations/" in r.url) as refreshed:
        _say(live_server, "lea", "l81", "message 81")
    assert "before=" in refreshed.value.url
    expect(page.locator("#messages[data-stale]")).to_have_count(0)  # the thread was swapped
    expect(messages.get_by_text("message 1", exact=True)).to_have_count(1)
    page.get_by_role("link", name="Newest messages").click()
    expect(messages.locator(".msg", has_text="message 81")).to_be_visible()
