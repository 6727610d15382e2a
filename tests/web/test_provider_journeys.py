"""One contact's whole journey per messaging provider, in real Chromium against `frontdesk serve
--demo` and a fake provider on 127.0.0.1: a webhook from a new contact opens a conversation, the
inbound workflow asks a choice (WhatsApp reply buttons, a Telegram inline keyboard), the contact
taps one (a `button_reply` webhook, a `callback_query` update), the answer routes and assigns the
conversation, an agent replies with an image from the inbox's reply box (uploaded to the
provider), the provider's statuses arrive, and the open inbox page shows the reply's ticks. The
proof of each provider's path."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.channels import telegram_support as tg
from tests.channels import whatsapp_support as wa
from tests.channels.media_support import PNG
from tests.conftest import LiveServer
from tests.factories import eventually
from tests.web.support import api, login, team_id

CAPTION = "Here is your label."
WORKFLOW = {
    "name": "Journey",
    "trigger": {
        "event": "conversation.opened",
        "conditions": {"all": [{"field": "conversation.source", "operator": "equals", "value": "contact"}]},
    },
    "steps": [
        {
            "id": "ask_topic",
            "type": "ask_question",
            "text": "Sales, support or billing?",
            "answer": {"type": "choice", "options": ["Sales", "Support", "Billing"]},
            "save_to": "vars.topic",
            "next": "route",
        },
        {
            "id": "route",
            "type": "branch",
            "branches": [
                {
                    "label": "support",
                    "when": {"all": [{"field": "vars.topic", "operator": "equals", "value": "Support"}]},
                    "next": "assign_support",
                }
            ],
            "else": "assign_sales",
        },
        {"id": "assign_support", "type": "assign", "team": "Support"},
        {"id": "assign_sales", "type": "assign", "team": "Sales"},
    ],
}


class Server:
    """`frontdesk serve --demo` (its seeded workflow disabled, this file's installed), its
    providers' base URLs pointed at a fake."""

    def __init__(self, live: LiveServer) -> None:
        self.live = live
        self.api = api(live)

    def install_journey(self) -> None:
        for workflow in self.api.get("/api/v1/workflows").json():
            assert self.api.post(f"/api/v1/workflows/{workflow['id']}/disable").status_code == 200
        created = self.api.post("/api/v1/workflows", json={"definition": WORKFLOW})
        assert created.status_code == 201, created.text
        workflow_id = created.json()["id"]
        assert self.api.post(f"/api/v1/workflows/{workflow_id}/publish").status_code == 200
        assert self.api.post(f"/api/v1/workflows/{workflow_id}/enable").status_code == 200

    def channel(self, body: dict[str, Any]) -> int:
        created = self.api.post("/api/v1/channels", json=body)
        assert created.status_code == 201, created.text
        return int(created.json()["id"])

    def webhook(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        response = httpx.post(f"{self.live.base_url}{path}", content=json.dumps(body).encode(), headers=headers)
        assert response.status_code == 200, response.text
        return response

    def conversation_on(self, channel_id: int) -> dict[str, Any]:
        found = [c for c in self.api.get("/api/v1/conversations").json() if c["channel_id"] == channel_id]
        assert len(found) == 1, found
        return dict(found[0])

    def thread(self, conversation_id: int) -> list[dict[str, Any]]:
        return list(self.api.get(f"/api/v1/conversations/{conversation_id}/messages").json())

    def completed_run(self, conversation_id: int) -> list[tuple[str, str]]:
        """The (step, branch) each step of the conversation's run took, once it completed."""

        def probe() -> list[tuple[str, str]] | None:
            runs = self.api.get("/api/v1/runs", params={"conversation_id": conversation_id}).json()
            if [r["status"] for r in runs] != ["completed"]:
                return None
            steps = self.api.get(f"/api/v1/runs/{runs[0]['id']}").json()["steps"]
            return [(s["step_id"], s["branch"]) for s in steps if s["waiting"] is None]

        return eventually(probe, "the run completed")

    def close(self) -> None:
        self.api.close()


@pytest.fixture
def graph() -> Iterator[wa.FakeGraph]:
    fake = wa.FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def bot_api() -> Iterator[tg.FakeBotApi]:
    fake = tg.FakeBotApi()
    yield fake
    fake.close()


def start(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[Server]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    live = LiveServer(db_url, tmp_path / "server.log")
    live.start()
    server = Server(live)
    server.install_journey()
    yield server
    server.close()
    live.stop()


@pytest.fixture
def whatsapp_server(
    db_url: str, tmp_path: Path, graph: wa.FakeGraph, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Server]:
    yield from start(db_url, tmp_path, monkeypatch, FRONTDESK_WHATSAPP_GRAPH_BASE_URL=graph.url)


@pytest.fixture
def telegram_server(
    db_url: str, tmp_path: Path, bot_api: tg.FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Server]:
    yield from start(db_url, tmp_path, monkeypatch, FRONTDESK_TELEGRAM_BASE_URL=bot_api.url)


def assigned_in_support(server: Server, conversation_id: int) -> dict[str, Any]:
    """The conversation, once the workflow assigned it to an online agent of the Support team."""
    support = team_id(server.live, "Support")

    def probe() -> dict[str, Any] | None:
        found = server.api.get(f"/api/v1/conversations/{conversation_id}").json()
        return dict(found) if found["assignee_id"] is not None else None

    conversation = eventually(probe, "the conversation assigned")
    assert conversation["team_id"] == support
    agent = server.api.get(f"/api/v1/agents/{conversation['assignee_id']}").json()
    assert support in agent["team_ids"] and agent["availability"] == "online"
    return conversation


def open_thread(page: Page, server: Server, conversation: dict[str, Any]) -> None:
    """The inbox page on the conversation: assigned, the question's options shown, live."""
    login(page, server.live, server.live.email, server.live.password)
    page.goto(f"{server.live.base_url}/inbox?c={conversation['id']}")
    expect(page.locator("body[data-live=on]")).to_be_attached()
    expect(page.locator("#assign-target")).to_have_value(f"agent:{conversation['assignee_id']}")
    question = page.locator("#messages .msg.out", has_text="Sales, support or billing?")
    expect(question.locator(".quick span")).to_have_text(["Sales", "Support", "Billing"])


def reply_with_image(page: Page, server: Server, conversation_id: int, tmp_path: Path) -> tuple[Locator, int]:
    """An agent's reply from the reply box: a caption and a PNG chosen in the file input. The
    reply's place in the page, and its id."""
    (tmp_path / "label.png").write_bytes(PNG)
    page.fill("#reply-text", CAPTION)
    page.set_input_files("#reply-files", str(tmp_path / "label.png"))
    page.click(".reply button")
    reply = page.locator("#messages .msg.out", has_text=CAPTION)
    expect(reply.locator("img")).to_be_visible()
    [message] = [m for m in server.thread(conversation_id) if m["text"] == CAPTION]
    [image] = message["attachments"]
    assert (image["kind"], image["file_name"], image["mime_type"], image["size"]) == (
        "image",
        "label.png",
        "image/png",
        len(PNG),
    )
    return reply, int(message["id"])


def test_whatsapp_journey(page: Page, whatsapp_server: Server, graph: wa.FakeGraph, tmp_path: Path) -> None:
    server = whatsapp_server
    channel_id = server.channel(
        {
            "type": "whatsapp",
            "name": "WhatsApp journey",
            "phone_number_id": wa.PHONE_NUMBER_ID,
            "access_token": wa.ACCESS_TOKEN,
            "app_secret": wa.APP_SECRET,
            "verify_token": wa.VERIFY_TOKEN,
        }
    )

    def webhook(body: dict[str, Any]) -> None:
        server.webhook(f"/webhooks/whatsapp/{channel_id}", body, wa.sign(json.dumps(body).encode()))

    # A new contact writes: a conversation opens and the workflow asks with reply buttons.
    webhook(wa.payload("text"))
    conversation = server.conversation_on(channel_id)
    assert conversation["status"] == "open" and conversation["source"] == "contact"
    question = eventually(lambda: graph.sent or None, "the question sent to WhatsApp")[0]
    assert question.problem is None and question.body["to"] == "16505551234"
    assert question.body["interactive"]["type"] == "button"
    assert question.body["interactive"]["body"]["text"] == "Sales, support or billing?"
    buttons = question.body["interactive"]["action"]["buttons"]
    assert [(b["type"], b["reply"]["id"], b["reply"]["title"]) for b in buttons] == [
        ("reply", "Sales", "Sales"),
        ("reply", "Support", "Support"),
        ("reply", "Billing", "Billing"),
    ]

    # The contact taps "Support": the answer is accepted, routes, and assigns.
    webhook(wa.payload("button_reply"))
    assert server.completed_run(conversation["id"]) == [
        ("ask_topic", "answered"),
        ("route", "support"),
        ("assign_support", "assigned"),
    ]
    assigned = assigned_in_support(server, conversation["id"])
    assert [m["text"] for m in server.thread(conversation["id"]) if m["direction"] == "in"] == [
        "Does it come in another color?",
        "Support",
    ]

    # An agent replies from the inbox with an image: uploaded, then sent as an image message by its id.
    open_thread(page, server, assigned)
    reply, reply_id = reply_with_image(page, server, conversation["id"], tmp_path)
    [upload] = eventually(lambda: graph.uploads or None, "the image uploaded to the Graph API")
    assert upload.problem is None and upload.status == 200
    assert upload.file is not None and upload.file.content == PNG and upload.fields["type"] == "image/png"
    sent = eventually(lambda: graph.sent[1:] or None, "the image message")[0]
    assert sent.problem is None and sent.status == 200
    assert sent.body["type"] == "image"
    assert sent.body["image"] == {"id": "media-1", "caption": CAPTION}
    wamid = "wamid.OUT2"  # the fake numbers its answers in order: the question was the first

    # Meta's statuses: delivered, then read; the open inbox page shows the reply read.
    expect(reply.locator(".delivery")).to_have_attribute("data-status", "sent")
    webhook(wa.payload("status", id=wamid, status="delivered"))
    expect(reply.locator(".delivery")).to_have_attribute("data-status", "delivered")
    webhook(wa.payload("status", id=wamid, status="read"))
    expect(reply.locator(".delivery")).to_have_attribute("data-status", "read")
    expect(reply.locator(".delivery")).to_have_text("✓✓ read")
    [message] = [m for m in server.thread(conversation["id"]) if m["id"] == reply_id]
    assert message["delivery_status"] == "read"


def test_telegram_journey(page: Page, telegram_server: Server, bot_api: tg.FakeBotApi, tmp_path: Path) -> None:
    server = telegram_server
    channel_id = server.channel(
        {"type": "telegram", "name": "Telegram journey", "bot_token": tg.BOT_TOKEN, "webhook_secret": tg.WEBHOOK_SECRET}
    )
    headers = {"content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": tg.WEBHOOK_SECRET}

    # A new contact writes: a conversation opens and the workflow asks with an inline keyboard.
    server.webhook(f"/webhooks/telegram/{channel_id}", tg.update("text"), headers)
    conversation = server.conversation_on(channel_id)
    assert conversation["status"] == "open" and conversation["source"] == "contact"
    question = eventually(lambda: bot_api.sent or None, "the question sent to Telegram")[0]
    assert question.problem is None and question.path.endswith("/sendMessage")
    assert question.body["chat_id"] == tg.CHAT_ID and question.body["text"] == "Sales, support or billing?"
    keyboard = question.body["reply_markup"]["inline_keyboard"]
    assert [(b["text"], b["callback_data"]) for row in keyboard for b in row] == [
        ("Sales", "Sales"),
        ("Support", "Support"),
        ("Billing", "Billing"),
    ]

    # The contact taps "Support": the webhook answers the callback query; the answer assigns.
    tapped = server.webhook(f"/webhooks/telegram/{channel_id}", tg.update("callback_query"), headers)
    assert tapped.json() == {"method": "answerCallbackQuery", "callback_query_id": "4382bfdwdsb323b2d9"}
    assert server.completed_run(conversation["id"]) == [
        ("ask_topic", "answered"),
        ("route", "support"),
        ("assign_support", "assigned"),
    ]
    assigned = assigned_in_support(server, conversation["id"])
    assert [m["text"] for m in server.thread(conversation["id"]) if m["direction"] == "in"] == [
        "Do you ship to Lisbon?",
        "Support",
    ]

    # An agent replies from the inbox with an image: a sendPhoto multipart upload with the caption.
    open_thread(page, server, assigned)
    reply, reply_id = reply_with_image(page, server, conversation["id"], tmp_path)
    sent = eventually(lambda: bot_api.sent[1:] or None, "the photo sent to Telegram")[0]
    assert sent.problem is None and sent.status == 200 and sent.path.endswith("/sendPhoto")
    assert sent.body["chat_id"] == str(tg.CHAT_ID) and sent.body["caption"] == CAPTION
    assert sent.files["photo"].content == PNG and sent.files["photo"].content_type == "image/png"

    # Telegram reports no delivery nor read receipts to bots: the reply stays "sent", and the
    # inbox page says so.
    expect(reply.locator(".delivery")).to_have_attribute("data-status", "sent")
    expect(reply.locator(".delivery")).to_have_text("✓ sent")
    [message] = [m for m in server.thread(conversation["id"]) if m["id"] == reply_id]
    assert message["delivery_status"] == "sent"
