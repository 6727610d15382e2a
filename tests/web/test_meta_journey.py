"""Messenger's whole journey in real Chromium, as tests/web/test_provider_journeys.py walks
WhatsApp's and Telegram's: a new contact's message opens a conversation, the question goes out as
quick replies, the tap (answered by its payload) routes and assigns, the agent's image reply from
the inbox is uploaded with its send, and Messenger's delivery receipt and read watermark show live."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.channels import meta_support as meta
from tests.channels.media_support import PNG
from tests.factories import eventually
from tests.web.test_provider_journeys import (
    CAPTION,
    Server,
    assigned_in_support,
    open_thread,
    reply_with_image,
    start,
)


@pytest.fixture
def graph() -> Iterator[meta.FakeMetaGraph]:
    fake = meta.FakeMetaGraph()
    yield fake
    fake.close()


@pytest.fixture
def messenger_server(
    db_url: str, tmp_path: Path, graph: meta.FakeMetaGraph, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Server]:
    yield from start(db_url, tmp_path, monkeypatch, FRONTDESK_META_GRAPH_BASE_URL=graph.url)


def test_messenger_journey(page: Page, messenger_server: Server, graph: meta.FakeMetaGraph, tmp_path: Path) -> None:
    server = messenger_server
    channel_id = server.channel(
        {
            "type": "messenger",
            "name": "Messenger journey",
            "page_id": meta.PAGE_ID,
            "access_token": meta.ACCESS_TOKEN,
            "app_secret": meta.APP_SECRET,
            "verify_token": meta.VERIFY_TOKEN,
        }
    )

    def webhook(body: dict[str, Any]) -> None:
        server.webhook(f"/webhooks/meta/{channel_id}", body, meta.sign(json.dumps(body).encode()))

    # A new contact writes: a conversation opens and the workflow asks with quick replies.
    webhook(meta.payload("text"))
    conversation = server.conversation_on(channel_id)
    question = eventually(lambda: graph.sent or None, "the question sent to Messenger")[0]
    assert question.problem is None and question.body["recipient"] == {"id": meta.PSID}
    assert question.body["message"]["text"] == "Sales, support or billing?"
    assert [r["payload"] for r in question.body["message"]["quick_replies"]] == [
        "frontdesk.option:Sales",
        "frontdesk.option:Support",
        "frontdesk.option:Billing",
    ]

    # The contact taps "Support": the payload answers, routes and assigns.
    webhook(meta.payload("quick_reply"))
    assert server.completed_run(conversation["id"]) == [
        ("ask_topic", "answered"),
        ("route", "support"),
        ("assign_support", "assigned"),
    ]
    assigned = assigned_in_support(server, conversation["id"])

    # An agent replies from the inbox with an image: the text, then the image uploaded with its send.
    open_thread(page, server, assigned)
    reply, reply_id = reply_with_image(page, server, conversation["id"], tmp_path)
    text_part, image = eventually(lambda: graph.sent[1:3] if len(graph.sent) >= 3 else None, "the reply sent")
    assert (text_part.problem, image.problem) == (None, None)
    assert text_part.body["messaging_type"] == "RESPONSE" and text_part.body["message"] == {"text": CAPTION}
    assert image.file is not None and image.file.content == PNG
    assert image.body["message"]["attachment"]["type"] == "image"

    # Messenger's delivery receipt names the last part; its read receipt is a watermark.
    expect(reply.locator(".delivery")).to_have_attribute("data-status", "sent")
    delivered = meta.payload("delivery")
    delivered["entry"][0]["messaging"][0]["delivery"]["mids"] = ["m_OUT3"]
    webhook(delivered)
    expect(reply.locator(".delivery")).to_have_attribute("data-status", "delivered")
    read = meta.payload("read")
    read["entry"][0]["messaging"][0]["read"]["watermark"] = int(dt.datetime.now(dt.UTC).timestamp() * 1000) + 60_000
    webhook(read)
    expect(reply.locator(".delivery")).to_have_attribute("data-status", "read")
    [message] = [m for m in server.thread(conversation["id"]) if m["id"] == reply_id]
    assert message["delivery_status"] == "read"
