"""Delivery ticks in the inbox, in real Chromium against `frontdesk serve --demo`: an agent's
WhatsApp reply goes to a fake Graph API, Meta's status webhooks (delivered, then read) arrive, and
the open thread shows it read without a reload; a failed status shows the provider's reason."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.channels.whatsapp_support import (
    ACCESS_TOKEN,
    APP_SECRET,
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeGraph,
    payload,
    sign,
)
from tests.conftest import LiveServer
from tests.factories import eventually
from tests.web.support import api, login


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def server(db_url: str, tmp_path: Path, graph: FakeGraph, monkeypatch: pytest.MonkeyPatch) -> Iterator[LiveServer]:
    """`frontdesk serve --demo`, its WhatsApp sends going to the fake Graph API."""
    monkeypatch.setenv("FRONTDESK_WHATSAPP_GRAPH_BASE_URL", graph.url)
    live = LiveServer(db_url, tmp_path / "server.log")
    live.start()
    yield live
    live.stop()


def whatsapp_conversation(server: LiveServer) -> tuple[int, int]:
    """A WhatsApp channel and a contact's first message on it: (channel id, conversation id)."""
    body = {
        "type": "whatsapp",
        "name": "WhatsApp",
        "phone_number_id": PHONE_NUMBER_ID,
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": VERIFY_TOKEN,
    }
    with api(server) as client:
        channel = client.post("/api/v1/channels", json=body).json()
        webhook(server, channel["id"], payload("text"))
        [conversation] = [c for c in client.get("/api/v1/conversations").json() if c["channel_id"] == channel["id"]]
    return int(channel["id"]), int(conversation["id"])


def webhook(server: LiveServer, channel_id: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body).encode()
    response = httpx.post(f"{server.base_url}/webhooks/whatsapp/{channel_id}", content=raw, headers=sign(raw))
    assert response.status_code == 200, response.text


def wamid_of(graph: FakeGraph, words: str) -> str:
    """The id the fake Graph API gave the message carrying `words` (`wamid.OUT<n>`, n its order)."""
    for n, request in enumerate(graph.sent, 1):
        if request.body.get("text", {}).get("body") == words and request.status == 200:
            return f"wamid.OUT{n}"
    return ""


def agent_replies(page: Page, words: str) -> None:
    page.fill("#reply-text", words)
    page.click("form.reply button[type=submit]")
    expect(page.locator("#messages .msg.out", has_text=words)).to_be_visible()


def ticks(page: Page, words: str) -> Any:
    return page.locator("#messages .msg.out", has_text=words).locator(".delivery")


def test_an_agents_reply_shows_sent_delivered_then_read_live(page: Page, server: LiveServer, graph: FakeGraph) -> None:
    channel_id, conversation_id = whatsapp_conversation(server)
    login(page, server, server.email, server.password)
    page.goto(f"{server.base_url}/inbox?c={conversation_id}")
    expect(page.locator("body[data-live=on]")).to_be_attached()

    agent_replies(page, "Your parcel left today.")
    wamid = eventually(lambda: wamid_of(graph, "Your parcel left today."), "the send to the Graph API")
    expect(ticks(page, "Your parcel left today.")).to_have_attribute("data-status", "sent")
    expect(ticks(page, "Your parcel left today.")).to_have_text("✓ sent")

    webhook(server, channel_id, payload("status", id=wamid, status="delivered"))
    expect(ticks(page, "Your parcel left today.")).to_have_attribute("data-status", "delivered")
    webhook(server, channel_id, payload("status", id=wamid, status="read"))

    read = ticks(page, "Your parcel left today.")
    expect(read).to_have_attribute("data-status", "read")
    expect(read).to_have_text("✓✓ read")
    expect(read).to_have_class("delivery read")


def test_a_failed_status_shows_the_providers_reason(page: Page, server: LiveServer, graph: FakeGraph) -> None:
    channel_id, conversation_id = whatsapp_conversation(server)
    login(page, server, server.email, server.password)
    page.goto(f"{server.base_url}/inbox?c={conversation_id}")
    expect(page.locator("body[data-live=on]")).to_be_attached()
    agent_replies(page, "Are you still there?")
    wamid = eventually(lambda: wamid_of(graph, "Are you still there?"), "the send to the Graph API")
    expect(ticks(page, "Are you still there?")).to_have_attribute("data-status", "sent")

    webhook(server, channel_id, payload("failed_status", id=wamid))

    failed = ticks(page, "Are you still there?")
    expect(failed).to_have_attribute("data-status", "failed")
    expect(failed.locator(".reason")).to_have_text("Re-engagement message")
