"""The web-chat widget in real Chromium: a visitor on the demo shop page talks to an agent in the
inbox, live both ways, through the demo's inbound workflow; text stays text; it remembers the visitor."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from frontdesk.actions import webchat as visitors
from frontdesk.channels import webchat
from frontdesk.clock import now
from frontdesk.store.database import Database
from tests.conftest import LiveServer


@pytest.fixture
def agent_page(browser: Browser) -> Iterator[Page]:
    """A second browser, with its own cookies: the agent's, beside the visitor's `page`."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()


def _webchat_channel(server: LiveServer) -> int:
    channels = httpx.get(f"{server.base_url}/api/v1/channels", headers=server.headers).json()
    return int(next(c["id"] for c in channels if c["type"] == "webchat"))


def _open_widget(page: Page, server: LiveServer) -> Locator:
    """The shop page with the widget open; returns the message log."""
    page.goto(f"{server.base_url}/widget/demo?channel={_webchat_channel(server)}")
    page.get_by_role("button", name="Chat with us").click()
    expect(page.get_by_role("dialog", name="Acme support")).to_be_visible()
    expect(page.get_by_label("Message", exact=True)).to_be_focused()
    return page.get_by_role("log", name="Messages")


def _write(page: Page, text: str) -> None:
    page.get_by_label("Message", exact=True).fill(text)
    page.get_by_label("Message", exact=True).press("Enter")


def _login(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.base_url}/login?next=/inbox")
    page.fill("#email", server.email)
    page.fill("#password", server.password)
    page.click("button[type=submit]")
    expect(page.locator("body")).to_have_attribute("data-live", "on")


def test_a_visitor_and_an_agent_talk_live_through_the_widget_and_the_inbox(
    live_server: LiveServer, page: Page, screenshot: Callable[..., None], agent_page: Page
) -> None:
    agent = agent_page
    _login(agent, live_server)
    log = _open_widget(page, live_server)

    page.get_by_text("Your name and e-mail (optional)").click()
    page.get_by_label("Name", exact=True).fill("Ada Lovelace")
    _write(page, "Hello, I need help with my order")

    expect(log).to_contain_text("Hello Ada, welcome to Acme!")  # the inbound workflow greets...
    expect(log).to_contain_text("What can we help you with?")  # ...and asks, with quick replies
    answers = page.get_by_role("group", name="Suggested answers")
    expect(answers.get_by_role("button")).to_have_text(["Sales", "Support", "Billing"])
    answers.get_by_role("button", name="Support").click()
    expect(log.locator("li[data-author=contact]").last).to_contain_text("Support")
    expect(log).to_contain_text("What is your e-mail address?")
    expect(answers).to_be_hidden()

    entry = agent.locator("#list li", has_text="Ada Lovelace")
    expect(entry).to_be_visible()  # appeared in the inbox without a reload
    entry.click()
    expect(agent.locator("#messages")).to_contain_text("Hello, I need help with my order")
    expect(agent.locator("#messages")).to_contain_text("Support")
    first_conversation = agent.locator("main.inbox").get_attribute("data-selected")

    agent.fill("#reply-text", "Hi Ada, Alice from support here. Let me look.")
    agent.click(".reply button")
    expect(log.locator("li[data-author=agent]")).to_contain_text("Hi Ada, Alice from support here. Let me look.")
    screenshot(page, "widget.png")

    agent.fill("#close-note", "Order located, shipped today")
    agent.fill("#close-category", "support")
    agent.click(".close button")
    expect(agent.locator(".closed")).to_contain_text("Closed as support: Order located, shipped today.")
    agent.goto(f"{live_server.base_url}/inbox")
    expect(agent.locator("body")).to_have_attribute("data-live", "on")
    expect(entry).to_have_count(0)  # closed: not among the open conversations

    _write(page, "One more question, please")
    expect(log.get_by_text("What can we help you with?")).to_have_count(2)  # a new conversation, a new run
    expect(entry).to_be_visible()  # the new conversation appears live
    entry.click()
    expect(agent.locator("#messages")).to_contain_text("One more question, please")
    expect(agent.locator("#messages")).not_to_contain_text("Let me look.")
    assert agent.locator("main.inbox").get_attribute("data-selected") != first_conversation


def test_markup_written_by_anyone_shows_as_text_in_the_widget(live_server: LiveServer, page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    log = _open_widget(page, live_server)

    with page.expect_response(lambda r: r.url.endswith("/messages") and r.request.method == "POST") as sent:
        _write(page, "<img src=x onerror=alert(1)>")
    conversation_id = sent.value.json()["conversation_id"]
    reply = httpx.post(
        f"{live_server.base_url}/api/v1/conversations/{conversation_id}/messages",
        json={"text": "<b>bold</b><script>alert(2)</script>"},
        headers=live_server.headers,
    )
    assert reply.status_code == 201, reply.text

    expect(log.locator("li[data-author=contact] p")).to_have_text("<img src=x onerror=alert(1)>")
    expect(log.locator("li[data-author=agent] p")).to_have_text("<b>bold</b><script>alert(2)</script>")
    assert log.locator("img, b, script").count() == 0
    assert dialogs == []


def test_a_returning_visitor_finds_their_conversation_after_a_reload(live_server: LiveServer, page: Page) -> None:
    log = _open_widget(page, live_server)
    _write(page, "Remember me?")
    expect(log).to_contain_text("What can we help you with?")

    page.reload()
    page.get_by_role("button", name="Chat with us").click()

    expect(log).to_contain_text("Remember me?")  # the visitor id and token stayed in localStorage
    expect(log.locator("li")).to_have_count(3)  # each message once: the read and the stream agree
    page.get_by_role("group", name="Suggested answers").get_by_role("button", name="Billing").click()
    expect(log).to_contain_text("What is your e-mail address?")


def test_the_widget_opens_and_closes_from_the_keyboard(live_server: LiveServer, page: Page) -> None:
    page.goto(f"{live_server.base_url}/widget/demo?channel={_webchat_channel(live_server)}")
    launcher = page.get_by_role("button", name="Chat with us")
    launcher.focus()
    page.keyboard.press("Enter")

    dialog = page.get_by_role("dialog", name="Acme support")
    expect(dialog).to_be_visible()
    expect(launcher).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_label("Message", exact=True)).to_be_focused()

    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")


def test_a_visitor_whose_token_expired_starts_a_new_session_and_is_heard(live_server: LiveServer, page: Page) -> None:
    log = _open_widget(page, live_server)
    _write(page, "First visit")
    expect(log).to_contain_text("What can we help you with?")
    channel = _webchat_channel(live_server)
    key = f"frontdesk.webchat.{live_server.base_url}.{channel}"
    saved = json.loads(page.evaluate("key => window.localStorage.getItem(key)", key))
    db = Database(live_server.db_url)
    try:
        secret = db.read_sync(lambda c: visitors.load_channel(c, channel)).secret
    finally:
        db.close()
    expired = webchat.visitor_token(secret, saved["visitor_id"], now() - dt.timedelta(days=1))
    page.evaluate(
        "([key, value]) => window.localStorage.setItem(key, value)", [key, json.dumps({**saved, "token": expired})]
    )

    page.reload()
    page.get_by_role("button", name="Chat with us").click()
    _write(page, "Back again")

    expect(log).to_contain_text("Back again")
    expect(log).not_to_contain_text("First visit")  # a new visitor: the old conversation is not theirs
    again = json.loads(page.evaluate("key => window.localStorage.getItem(key)", key))
    assert again["visitor_id"] != saved["visitor_id"]
