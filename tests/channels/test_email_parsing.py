"""Inbound e-mail as the channel reads it (pure): each fixture imitates a real client's format."""

from __future__ import annotations

from frontdesk.channels import email
from frontdesk.channels.base import Ignored, InboundItem, Notice, StatusUpdate
from frontdesk.channels.email_inbound import read
from frontdesk.domain.model import DeliveryStatus
from tests.channels.email_support import fixture, mail


def _item(raw: bytes) -> InboundItem:
    item = read(raw).item
    assert isinstance(item, InboundItem), item
    return item


def test_a_gmail_reply_gives_its_own_text_the_lower_cased_sender_and_the_thread_it_answers() -> None:
    item = _item(fixture("gmail_reply"))

    assert item.text == "It is order #1042, thanks!"
    assert (item.external_id, item.contact_name) == ("sheena.park@gmail.com", "Sheena Park")
    assert item.provider_message_id == "CAJx9Lq0Wz1=gmail-reply-1@mail.gmail.com"
    assert item.subject == "Re: My order has not arrived"
    assert item.references[0] == "frontdesk.7.1764580000@acme.example"


def test_outlook_replies_lose_the_header_block_under_them() -> None:
    assert (
        _item(fixture("outlook_reply")).text == "Yes, please send it again to the accounting address.\n\nRegards,\nMarc"
    )
    assert _item(fixture("outlook_classic_reply")).text == "The billing address is 12 rue de la Paix."
    assert _item(fixture("outlook_reply")).contact_name == "Dupont, Marc"


def test_apple_mail_loses_sent_from_my_iphone_and_the_quote_and_keeps_its_emoji() -> None:
    item = _item(fixture("apple_mail_reply"))

    assert item.text == "Thursday at 3 pm works for me 👍"
    assert item.contact_name == "Renée Martin"


def test_thunderbird_loses_its_signature_and_the_quote() -> None:
    assert _item(fixture("thunderbird_reply")).text == "The reset link says it has expired."


def test_an_html_only_mail_becomes_plain_text() -> None:
    text = _item(fixture("html_only")).text

    assert text == "Hello,\n\nWhat does the Pro plan cost & is there a trial?\nThanks <3"


def test_attachments_come_with_their_bytes_type_and_a_name_without_folders() -> None:
    parsed = read(fixture("with_attachments"))

    assert isinstance(parsed.item, InboundItem)
    assert parsed.item.text == "Here is a photo of the broken item and the receipt."
    assert [(f.mime_type, f.file_name) for f in parsed.files] == [
        ("image/png", "photo.png"),
        ("application/pdf", "receipt.pdf"),
    ]
    assert parsed.files[0].content.startswith(b"\x89PNG")


def test_an_out_of_office_reply_is_a_notice_not_a_message() -> None:
    item = read(fixture("out_of_office")).item

    assert isinstance(item, Notice)
    assert item.text == "Automatic reply from marc.dupont@contoso.example: Automatic reply: Invoice question"


def test_bulk_list_and_autoresponder_headers_are_automatic_but_auto_submitted_no_is_not() -> None:
    for headers in ({"Precedence": "bulk"}, {"Precedence": "list"}, {"X-Autoreply": "yes"}, {"X-Autorespond": "1"}):
        assert isinstance(read(mail("Away", **headers)).item, Notice), headers
    assert isinstance(read(mail("Hello", Auto_Submitted="no")).item, InboundItem)


def test_a_delivery_report_fails_the_mail_it_names_with_its_reason() -> None:
    item = read(fixture("bounce", message_id="frontdesk.12.1764580000@acme.example")).item

    assert item == StatusUpdate(
        "frontdesk.12.1764580000@acme.example",
        DeliveryStatus.FAILED,
        "bounced by nobody@contoso.example: smtp; 550 5.1.1 <nobody@contoso.example>: "
        "Recipient address rejected: User unknown",
    )


def test_a_mail_without_a_message_id_is_known_by_its_contents_hash() -> None:
    raw = mail("Hello")

    assert _item(raw).provider_message_id.startswith("sha256:")
    assert _item(raw).provider_message_id == _item(raw).provider_message_id


def test_a_mail_without_a_body_takes_its_subject_as_its_text() -> None:
    assert _item(mail("", subject="Call me back")).text == "Call me back"


def test_what_is_not_a_contacts_mail_is_skipped_never_raising() -> None:
    for raw in (b"", b"garbage without headers", mail("Hi", sender="not an address")):
        assert isinstance(read(raw).item, Ignored), raw


def test_the_adapter_parses_raw_bytes() -> None:
    assert email.ADAPTER.parse(fixture("thunderbird_reply"))[0] == read(fixture("thunderbird_reply")).item
