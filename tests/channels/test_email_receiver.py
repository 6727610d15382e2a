"""The built-in SMTP receiver, fed by the standard library's smtplib: RCPT picks the channel, the
mail is answered 250 once committed, and a retried mail, an auto-reply or a bounce opens nothing."""

from __future__ import annotations

import smtplib
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from frontdesk.settings import Settings
from tests.channels.conversations import conversations, inbound_texts, one_conversation
from tests.channels.email_support import INBOUND, create_channel, fixture, mail, send
from tests.conftest import free_port
from tests.engine.support import thread
from tests.factories import Api


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
        smtp_max_bytes=200_000,
    )


@pytest.fixture
def channel(admin: Api) -> dict[str, Any]:
    return create_channel(admin, smtp_port=free_port())


def test_a_mail_opens_a_conversation_with_its_subject_and_the_senders_name(
    admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    refused = send(smtp_port, mail("My parcel is late", subject="Order #1042", sender="Sheena <Sheena@Example.org>"))

    assert refused == {}
    conversation = admin.get(f"/api/v1/conversations/{one_conversation(admin)}").json()
    assert conversation["subject"] == "Order #1042"
    assert inbound_texts(admin, conversation["id"]) == ["My parcel is late"]
    contact = admin.get(f"/api/v1/contacts/{conversation['contact_id']}").json()
    assert contact["name"] == "Sheena"


def test_the_recipient_address_is_matched_whatever_its_case(
    admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    send(smtp_port, mail("Hello"), to=INBOUND.upper())

    assert len(conversations(admin)) == 1


def test_an_unknown_recipient_is_refused_at_rcpt_with_550(admin: Api, channel: dict[str, Any], smtp_port: int) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_port, mail("Hello"), to="sales@acme.example")

    assert refused.value.recipients["sales@acme.example"][0] == 550
    assert conversations(admin) == []


def test_the_same_message_id_delivered_twice_is_stored_once(
    admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    raw = fixture("gmail_reply")

    send(smtp_port, raw)
    send(smtp_port, raw)

    assert inbound_texts(admin, one_conversation(admin)) == ["It is order #1042, thanks!"]
    assert len(admin.events(type="message.received")) == 1


def test_a_second_mail_from_the_contact_joins_the_open_conversation(
    admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    send(smtp_port, mail("First", sender="jan@posteo.example"))
    send(smtp_port, fixture("thunderbird_reply"))

    assert inbound_texts(admin, one_conversation(admin)) == ["First", "The reset link says it has expired."]


def test_attachments_are_stored_from_the_mail_ready_at_once(
    admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    send(smtp_port, fixture("with_attachments"))

    [message] = thread(admin, one_conversation(admin))
    shown = [(a["kind"], a["state"], a["mime_type"], a["file_name"]) for a in message["attachments"]]
    assert shown == [("image", "ready", "image/png", "photo.png"), ("file", "ready", "application/pdf", "receipt.pdf")]
    content = admin.get(message["attachments"][0]["url"])
    assert content.content.startswith(b"\x89PNG")


def test_an_auto_reply_opens_no_conversation_and_starts_no_workflow(
    admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    assert send(smtp_port, fixture("out_of_office")) == {}

    assert conversations(admin) == []
    assert admin.events(type="conversation.opened") == []


def test_an_auto_reply_is_noted_in_the_contacts_open_conversation(
    admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    send(smtp_port, mail("About my invoice", sender="marc.dupont@contoso.example"))
    send(smtp_port, fixture("out_of_office"))

    notes = [m["text"] for m in thread(admin, one_conversation(admin)) if m["author_kind"] == "system"]
    assert notes == ["Automatic reply from marc.dupont@contoso.example: Automatic reply: Invoice question"]


def test_a_mail_over_the_size_limit_is_refused_and_nothing_stored(
    admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    with pytest.raises(smtplib.SMTPException) as refused:
        send(smtp_port, mail("x" * 300_000))

    assert "552" in str(refused.value) or getattr(refused.value, "smtp_code", None) == 552
    assert conversations(admin) == []


def test_a_mail_that_cannot_be_committed_is_deferred_with_451_and_taken_once_when_sent_again(
    client: TestClient[Any], admin: Api, channel: dict[str, Any], smtp_port: int
) -> None:
    db = client.app.state.db
    db.close()
    try:
        with pytest.raises(smtplib.SMTPDataError) as deferred:  # the writer is stopped: nothing commits
            send(smtp_port, fixture("gmail_reply"))
    finally:
        db.start()

    assert deferred.value.smtp_code == 451
    assert conversations(admin) == []
    assert send(smtp_port, fixture("gmail_reply")) == {}
    assert inbound_texts(admin, one_conversation(admin)) == ["It is order #1042, thanks!"]
