"""Replies with attachments on WhatsApp: uploaded to the fake Graph API, then sent by media id
(or by link), the text as the first media's caption where WhatsApp takes one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import AttachmentKind, AttachmentState
from frontdesk.settings import Settings
from tests.channels.conversations import one_conversation
from tests.channels.media_support import MB, OGG, PNG, link, reply, stored
from tests.channels.whatsapp_support import ACCESS_TOKEN, FakeGraph, create_channel, payload, post_webhook
from tests.engine.support import install, thread
from tests.factories import Api, eventually

WA_ID = "16505551234"


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.close()


@pytest.fixture
def settings(db_url: str, graph: FakeGraph, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        delivery_backoff_seconds=0.05,
        log_format="text",
        whatsapp_graph_base_url=graph.url,
        media_dir=str(tmp_path / "media"),
        http_allow_private=True,  # a link to fetch is served on 127.0.0.1
    )


@pytest.fixture
def conversation(admin: Api) -> int:
    channel = create_channel(admin)
    post_webhook(admin, channel["id"], payload("text"))  # the contact wrote: the window is open
    return one_conversation(admin)


def settled(admin: Api, conversation_id: int, message_id: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = next(m for m in thread(admin, conversation_id) if m["id"] == message_id)
        return None if found["delivery_status"] == "pending" else found

    return eventually(probe, "the delivery")


def test_an_image_reply_is_uploaded_then_sent_by_its_media_id_with_the_text_as_caption(
    client: TestClient[Any], admin: Api, conversation: int, graph: FakeGraph
) -> None:
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "receipt.png", PNG)

    sent = settled(admin, conversation, reply(client.app, conversation, "Your receipt", [image]))

    [upload] = graph.uploads
    assert (upload.problem, upload.authorization) == (None, f"Bearer {ACCESS_TOKEN}")
    assert upload.fields == {"messaging_product": "whatsapp", "type": "image/png"}
    assert upload.file is not None
    assert (upload.file.file_name, upload.file.content_type, upload.file.content) == ("receipt.png", "image/png", PNG)
    [message] = graph.sent
    assert message.problem is None
    assert message.body == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "image",
        "image": {"id": "media-1", "caption": "Your receipt"},
    }
    assert (sent["delivery_status"], sent["provider_message_id"]) == ("sent", "wamid.OUT1")


def test_text_with_a_voice_note_is_two_sends_and_the_message_keeps_the_last_id(
    client: TestClient[Any], admin: Api, conversation: int, graph: FakeGraph
) -> None:
    voice = stored(client.app, AttachmentKind.AUDIO, "audio/ogg", "note.ogg", OGG)

    sent = settled(admin, conversation, reply(client.app, conversation, "Listen to this", [voice]))

    assert [r.problem for r in graph.sent] == [None, None]
    assert graph.sent[0].body["text"]["body"] == "Listen to this"
    assert graph.sent[1].body["audio"] == {"id": "media-1"}  # audio takes no caption
    assert (sent["delivery_status"], sent["provider_message_id"]) == ("sent", "wamid.OUT2")


def test_a_question_with_a_document_sends_the_file_then_the_buttons(
    client: TestClient[Any], admin: Api, conversation: int, graph: FakeGraph
) -> None:
    pdf = stored(client.app, AttachmentKind.FILE, "application/pdf", "quote.pdf", b"%PDF-1.4 quote")

    settled(admin, conversation, reply(client.app, conversation, "Accept the quote?", [pdf], ["Yes", "No"]))

    document, question = (r.body for r in graph.sent)
    assert document["document"] == {"id": "media-1", "filename": "quote.pdf"}
    assert question["interactive"]["body"]["text"] == "Accept the quote?"


def test_an_image_too_big_for_whatsapp_fails_with_the_reason_and_is_not_retried(
    client: TestClient[Any], admin: Api, conversation: int, graph: FakeGraph
) -> None:
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "huge.png", PNG + b"\x00" * (6 * MB))

    sent = settled(admin, conversation, reply(client.app, conversation, "", [image]))

    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("failed", 1)
    assert sent["delivery_error"] == "huge.png is 6.0 MB: WhatsApp takes image attachments up to 5.0 MB"
    assert graph.uploads == [] and graph.sent == []


def test_an_upload_refused_with_500_is_retried_and_the_message_sent_once(
    client: TestClient[Any], admin: Api, conversation: int, graph: FakeGraph
) -> None:
    graph.script(500)
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "receipt.png", PNG)

    sent = settled(admin, conversation, reply(client.app, conversation, "Receipt", [image]))

    assert [u.status for u in graph.uploads] == [500, 200]
    assert len(graph.sent) == 1
    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("sent", 2)


def test_an_upload_refused_with_400_fails_with_metas_reason(
    client: TestClient[Any], admin: Api, conversation: int, graph: FakeGraph
) -> None:
    graph.script(400)
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "receipt.png", PNG)

    sent = settled(admin, conversation, reply(client.app, conversation, "Receipt", [image]))

    assert sent["delivery_status"] == "failed"
    assert sent["delivery_error"] == "WhatsApp answered HTTP 400 to the upload: (#400) scripted failure"
    assert graph.sent == []


def test_a_link_is_sent_as_a_link_without_an_upload(
    client: TestClient[Any], admin: Api, conversation: int, graph: FakeGraph
) -> None:
    brochure = link(AttachmentKind.FILE, "https://cdn.example/brochure.pdf", "brochure.pdf")

    sent = settled(admin, conversation, reply(client.app, conversation, "Our brochure", [brochure]))

    assert graph.uploads == []
    assert graph.sent[0].body["document"] == {
        "link": "https://cdn.example/brochure.pdf",
        "caption": "Our brochure",
        "filename": "brochure.pdf",
    }
    assert sent["delivery_status"] == "sent"


def test_a_workflows_send_message_attachment_reaches_whatsapp_as_a_link(admin: Api, graph: FakeGraph) -> None:
    install(
        admin,
        {
            "name": "Menu",
            "trigger": {"event": "conversation.opened"},
            "steps": [
                {
                    "id": "menu",
                    "type": "send_message",
                    "text": "Today's menu, {{ contact.first_name }}",
                    "attachment": {"url": "https://cdn.example/menu.jpg"},
                }
            ],
        },
    )
    channel = create_channel(admin)
    post_webhook(admin, channel["id"], payload("text"))

    sent = eventually(lambda: graph.sent or None, "the menu sent to WhatsApp")[0]

    assert sent.problem is None and graph.uploads == []
    assert (sent.body["type"], sent.body["image"]) == (
        "image",
        {"link": "https://cdn.example/menu.jpg", "caption": "Today's menu, Sheena"},
    )


class HeldFile:
    """A file server on 127.0.0.1 that answers only once released: the fetch stays in flight."""

    def __init__(self, content: bytes) -> None:
        self.released = released = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                released.wait(30)
                self.send_response(200)
                self.send_header("content-type", "image/png")
                self.send_header("content-length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/receipt.png"

    def close(self) -> None:
        self.released.set()
        self._server.shutdown()
        self._server.server_close()


def test_an_attachment_still_being_fetched_holds_the_message_back_then_it_goes(
    client: TestClient[Any], admin: Api, conversation: int, graph: FakeGraph
) -> None:
    held = HeldFile(PNG)
    try:
        fetching = NewAttachment(AttachmentKind.IMAGE, source_url=held.url)
        message_id = reply(client.app, conversation, "Receipt", [fetching])

        def retried() -> dict[str, Any] | None:
            found = next(m for m in thread(admin, conversation) if m["id"] == message_id)
            return found if found["delivery_attempts"] >= 2 else None

        found = eventually(retried, "a second attempt")
        assert found["delivery_status"] == "pending"
        assert found["delivery_error"] == "attachment 1 is still being fetched"
        assert graph.uploads == [] and graph.sent == []

        held.released.set()
        sent = settled(admin, conversation, message_id)
    finally:
        held.close()
    assert sent["delivery_status"] == "sent"
    [upload] = graph.uploads
    assert upload.file is not None and upload.file.content == PNG


def test_an_attachment_that_could_not_be_fetched_fails_the_message_with_why(
    client: TestClient[Any], admin: Api, conversation: int, graph: FakeGraph
) -> None:
    lost = NewAttachment(AttachmentKind.FILE, AttachmentState.FAILED, file_name="quote.pdf")
    sent = settled(admin, conversation, reply(client.app, conversation, "Quote", [lost]))

    assert (sent["delivery_status"], sent["delivery_attempts"]) == ("failed", 1)
    assert sent["delivery_error"] == "quote.pdf has no content to send: failed"
    assert graph.sent == []
