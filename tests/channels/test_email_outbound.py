"""Replies by e-mail into an aiosmtpd sink on loopback: threaded on the contact's mail, our own
Message-ID kept so their answer finds the conversation, retried while the server is away or defers,
failed when it refuses or a bounce comes back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.domain.model import AttachmentKind
from frontdesk.settings import Settings
from tests.channels.conversations import conversations, inbound_texts, one_conversation
from tests.channels.email_support import INBOUND, Sink, create_channel, fixture, mail, send
from tests.channels.media_support import link, reply, stored
from tests.conftest import free_port
from tests.engine.support import thread
from tests.factories import Api, eventually

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")
FIRST = mail("My parcel is late", subject="Order #1042", sender="Sheena <sheena@example.org>", Message_ID="<m1@ex.org>")


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def settings(db_url: str, tmp_path: Path, smtp_port: int) -> Settings:
    return Settings(
        database_url=db_url,
        delivery_backoff_seconds=0.05,
        log_format="text",
        media_dir=str(tmp_path / "media"),
        smtp_port=smtp_port,
    )


@pytest.fixture
def conversation(admin: Api, sink: Sink, smtp_port: int) -> int:
    create_channel(admin, smtp_port=sink.port)
    send(smtp_port, FIRST)
    return one_conversation(admin)


def answer(admin: Api, conversation_id: int, text: str) -> dict[str, Any]:
    response = admin.post(f"/api/v1/conversations/{conversation_id}/messages", {"text": text})
    assert response.status_code == 201, response.text
    return settled(admin, conversation_id, response.json()["id"])


def settled(admin: Api, conversation_id: int, message_id: int) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        found = next(m for m in thread(admin, conversation_id) if m["id"] == message_id)
        return None if found["delivery_status"] == "pending" else found

    return eventually(probe, "the delivery")


def test_a_reply_is_threaded_on_the_contacts_mail_with_re_subject_and_text_and_html(
    admin: Api, conversation: int, sink: Sink
) -> None:
    sent = answer(admin, conversation, "It ships today.\n\nKind regards")

    [arrived] = sink.arrived
    assert arrived["To"] == "sheena@example.org"
    assert arrived["From"] == f"Acme Support <{INBOUND}>"
    assert arrived["Subject"] == "Re: Order #1042"
    assert (arrived["In-Reply-To"], arrived["References"]) == ("<m1@ex.org>", "<m1@ex.org>")
    assert arrived["Message-ID"] == f"<{sent['provider_message_id']}>"
    assert sent["delivery_status"] == "sent"
    plain, html = arrived.get_body(("plain",)), arrived.get_body(("html",))
    assert plain is not None and plain.get_content() == "It ships today.\n\nKind regards\n"
    assert html is not None and "<p>It ships today.</p><p>Kind regards</p>" in html.get_content()


def test_the_contacts_answer_from_another_address_joins_the_conversation_by_in_reply_to(
    admin: Api, conversation: int, sink: Sink, smtp_port: int
) -> None:
    sent = answer(admin, conversation, "Which address?")

    ours = f"<{sent['provider_message_id']}>"
    send(smtp_port, mail("12 Main St", subject="Re: Order #1042", sender="sheena@work.example", In_Reply_To=ours))

    assert inbound_texts(admin, conversation) == ["My parcel is late", "12 Main St"]
    assert len(conversations(admin)) == 1


def test_an_answer_naming_a_mail_of_a_closed_conversation_follows_the_usual_rule(
    admin: Api, conversation: int, sink: Sink, smtp_port: int
) -> None:
    sent = answer(admin, conversation, "Anything else?")
    assert admin.post(f"/api/v1/conversations/{conversation}/close", {}).status_code in (200, 201)

    ours = f"<{sent['provider_message_id']}>"
    send(smtp_port, mail("One more thing", sender="sheena@work.example", In_Reply_To=ours))

    newest = conversations(admin)[0]
    assert newest["id"] != conversation and newest["status"] == "open"
    assert inbound_texts(admin, newest["id"]) == ["One more thing"]


def test_a_bounce_marks_the_mail_it_names_failed_with_its_reason(
    admin: Api, conversation: int, sink: Sink, smtp_port: int
) -> None:
    sent = answer(admin, conversation, "Here is your invoice.")

    send(smtp_port, fixture("bounce", message_id=sent["provider_message_id"]), sender="")

    def failed() -> dict[str, Any] | None:
        found = next(m for m in thread(admin, conversation) if m["id"] == sent["id"])
        return found if found["delivery_status"] == "failed" else None

    assert "550 5.1.1" in eventually(failed, "the bounce")["delivery_error"]
    assert len(conversations(admin)) == 1


def test_files_go_as_attachments_and_links_as_lines(
    client: TestClient[Any], admin: Api, conversation: int, sink: Sink
) -> None:
    image = stored(client.app, AttachmentKind.IMAGE, "image/png", "receipt.png", PNG)
    linked = link(AttachmentKind.FILE, "https://files.example/terms.pdf", "terms.pdf")

    settled(admin, conversation, reply(client.app, conversation, "Your receipt", [image, linked]))

    [arrived] = sink.arrived
    [attached] = list(arrived.iter_attachments())
    assert (attached.get_filename(), attached.get_content_type(), attached.get_content()) == (
        "receipt.png",
        "image/png",
        PNG,
    )
    plain = arrived.get_body(("plain",))
    assert plain is not None and "terms.pdf: https://files.example/terms.pdf" in plain.get_content()


def test_a_refusal_fails_the_reply_for_good_and_a_deferral_is_retried(
    admin: Api, conversation: int, sink: Sink
) -> None:
    sink.answer_data = "554 5.7.1 Message rejected as spam"
    refused = answer(admin, conversation, "Hello")
    assert (refused["delivery_status"], refused["delivery_attempts"]) == ("failed", 1)
    assert "554 5.7.1 Message rejected as spam" in refused["delivery_error"]

    sink.answer_data = "451 4.7.1 Greylisted, try again"
    response = admin.post(f"/api/v1/conversations/{conversation}/messages", {"text": "Hello again"})
    eventually(lambda: thread(admin, conversation)[-1]["delivery_error"], "a deferred attempt")
    sink.answer_data = ""

    retried = settled(admin, conversation, response.json()["id"])
    assert retried["delivery_status"] == "sent" and retried["delivery_attempts"] >= 2
    assert [m["Subject"] for m in sink.arrived] == ["Re: Order #1042"]


def test_a_reply_while_the_server_is_down_is_delivered_once_it_is_back(admin: Api, smtp_port: int) -> None:
    down = Sink(free_port())
    create_channel(admin, smtp_port=down.port)
    send(smtp_port, FIRST)
    conversation = one_conversation(admin)
    response = admin.post(f"/api/v1/conversations/{conversation}/messages", {"text": "Hello"})
    eventually(lambda: thread(admin, conversation)[-1]["delivery_error"], "a failed attempt")

    down.start()
    try:
        sent = settled(admin, conversation, response.json()["id"])
    finally:
        down.stop()

    assert sent["delivery_status"] == "sent"
    assert [m["Message-ID"] for m in down.arrived] == [f"<{sent['provider_message_id']}>"]


def test_a_file_of_a_container_type_goes_as_opaque_bytes(
    client: TestClient[Any], admin: Api, conversation: int, sink: Sink
) -> None:
    odd = stored(client.app, AttachmentKind.FILE, "multipart/form-data", "form.bin", b"--x\r\n")

    sent = settled(admin, conversation, reply(client.app, conversation, "The form", [odd]))

    [attached] = list(sink.arrived[0].iter_attachments())
    assert (sent["delivery_status"], attached.get_content_type()) == ("sent", "application/octet-stream")
