"""An outbound message as an e-mail, and how an SMTP server's answer is classified.

The mail carries our own Message-ID, derived from the message (the same on every attempt, so a
receiver can drop a duplicate, and stored on the message when sent, so the contact's reply finds
its conversation), In-Reply-To/References naming the thread, a "Re: " subject, a text part and
an HTML part, and the message's files. A question's options are numbered lines: a contact
answers with the option or its number.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

import aiosmtplib

from frontdesk.channels import email_tls
from frontdesk.channels.base import SendResult, Verdict
from frontdesk.domain.records import Attachment, Outbound

MAX_REFERENCES = 20  # the thread's latest ids: enough to thread, short enough for any server


def message_id(message: Outbound, from_address: str) -> str:
    """Our Message-ID for `message` (without angle brackets), on the From address's domain."""
    domain = from_address.rpartition("@")[2] or "frontdesk.invalid"
    return f"frontdesk.{message.id}.{int(message.created_at.timestamp())}@{domain}"


def compose(
    message: Outbound, sender_name: str, from_address: str, files: Sequence[tuple[Attachment, bytes]]
) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = formataddr((sender_name, from_address))
    mail["To"] = message.external_id or ""
    mail["Subject"] = reply_subject(message.subject)
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = f"<{message_id(message, from_address)}>"
    if message.references:
        mail["In-Reply-To"] = f"<{message.references[-1]}>"
        mail["References"] = " ".join(f"<{ref}>" for ref in message.references[-MAX_REFERENCES:])
    text = _text(message)
    mail.set_content(text)
    mail.add_alternative(_html(message), subtype="html")
    for attachment, content in files:
        maintype, subtype = _attachable(attachment.mime_type)
        name = attachment.file_name or f"attachment-{attachment.id}"
        mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return mail


def _attachable(mime_type: str | None) -> tuple[str, str]:
    """A file's type as a leaf part may carry it: a container type (multipart/…, message/…) or no
    type at all is sent as opaque bytes."""
    maintype, _, subtype = (mime_type or "").split(";")[0].strip().lower().partition("/")
    if not maintype or not subtype or maintype in ("multipart", "message"):
        return "application", "octet-stream"
    return maintype, subtype


def reply_subject(subject: str | None) -> str:
    """ "Re: " and the conversation's subject (never "Re: Re: "); a conversation without one has a plain one."""
    if not subject:
        return "Your conversation with us"
    return subject if subject[:3].lower() == "re:" else f"Re: {subject}"


def _text(message: Outbound) -> str:
    lines = [message.text, *(f"{n}. {option}" for n, option in enumerate(message.quick_replies, 1))]
    lines += [f"{a.file_name or 'link'}: {a.source_url}" for a in message.attachments if not a.storage_key]
    return "\n".join(line for line in lines if line) + "\n"


def _html(message: Outbound) -> str:
    paragraphs = "".join(f"<p>{html.escape(block)}</p>" for block in message.text.split("\n\n") if block)
    options = "".join(f"<li>{html.escape(option)}</li>" for option in message.quick_replies)
    links = "".join(
        f'<p><a href="{html.escape(a.source_url, quote=True)}">{html.escape(a.file_name or a.source_url)}</a></p>'
        for a in message.attachments
        if not a.storage_key and a.source_url
    )
    listed = f"<ol>{options}</ol>" if options else ""
    return f"<!DOCTYPE html><html><body>{paragraphs.replace(chr(10), '<br>')}{listed}{links}</body></html>\n"


def classify(exc: Exception, host: str, port: int) -> SendResult:
    """4xx answers and connection trouble are tried again; 5xx answers are refusals for good. A
    server whose TLS is refused (its certificate, or no STARTTLS) is tried again too, as a mail
    server defers mail it must not send in clear: the certificate is often renewed or the CA file
    set within the attempts, and the last attempt's failure says why."""
    insecure = email_tls.refusal(exc, host)
    if insecure is not None:
        return SendResult(Verdict.RETRY, f"no secure connection to the SMTP server at {host}:{port}: {insecure}"[:500])
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        exc = exc.recipients[0]
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500:
        return SendResult(Verdict.FAILED, f"the SMTP server refused the mail: {exc.code} {exc.message}"[:500])
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 400:
        return SendResult(Verdict.RETRY, f"the SMTP server deferred the mail: {exc.code} {exc.message}"[:500])
    return SendResult(Verdict.RETRY, f"could not reach the SMTP server ({type(exc).__name__})")
