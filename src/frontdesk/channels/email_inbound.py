"""What an inbound e-mail is, read with the standard library's `email` (policy `default`): a
contact's message (the reply's own text, its files, subject and the messages it answers), an
automatic reply (a notice: it opens nothing), or a delivery report on a mail we sent (a status).

Pure: no I/O, never raises on a message. The files are returned with their bytes: the SMTP
receiver stores them before ingest, which writes them with the message (no fetch needed).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import EmailPolicy
from email.utils import getaddresses
from typing import Any

from frontdesk.channels.base import Ignored, InboundItem, Item, Notice, StatusUpdate
from frontdesk.channels.email_text import html_text, reply_text
from frontdesk.domain.attachments import MAX_ATTACHMENTS, clean_name
from frontdesk.domain.conversations import MAX_MESSAGE_CHARS
from frontdesk.domain.model import DeliveryStatus

MAX_ID = 200  # the column's width: a longer Message-ID is kept as its hash
MAX_SUBJECT = 500
_ID = re.compile(r"<([^<>\s]+)>")
_AUTOMATIC_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply"})


@dataclass(frozen=True)
class MimeFile:
    """An attached file as the mail carries it (its declared type is checked when stored)."""

    content: bytes
    mime_type: str
    file_name: str | None


@dataclass(frozen=True)
class Mail:
    item: Item
    files: tuple[MimeFile, ...] = ()


class _HeadersOnce(EmailPolicy):
    """Policy `default`, reading each distinct header once. `default` builds a header object (a
    full parse of its value) on every read, and the parser, `get_body`, `iter_attachments` and
    `get_content_type` read Content-Type again and again: ~20 parses a part, most of a mail's
    cost. A header object depends only on its name and raw value, and is never changed: the same
    pair gets the same object, within a mail and across mails (`Content-Type: text/plain;
    charset="utf-8"` is in most of them)."""

    def header_fetch_parse(self, name: str, value: Any) -> Any:
        if hasattr(value, "name"):  # already a header object
            return value
        if len(value) > _CACHED_VALUE:  # a long one is rare: never kept, so a mail cannot fill memory
            return super().header_fetch_parse(name, value)
        return _header_object(self, name, value)


_CACHED_VALUE = 256  # characters: Content-Type, Content-Disposition, Content-Transfer-Encoding…


@functools.lru_cache(maxsize=4096)
def _header_object(reading: _HeadersOnce, name: str, value: str) -> Any:
    return EmailPolicy.header_fetch_parse(reading, name, value)


_PARSER = BytesParser(policy=_HeadersOnce())

# The top-level multipart boundary, as almost every client writes it: 16 to 70 characters in the
# mail's own headers; quoted, RFC 2046's characters less the space and `?` (no encoded word can
# form); unquoted, a token's (RFC 2045: no tspecials) less RFC 2231's quote.
_BOUNDARY = re.compile(
    rb"""^content-type:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*?;\s*boundary\s*=\s*"""
    rb"""(?:"([0-9A-Za-z'()+_,./:=-]{16,70})"|([0-9A-Za-z+_.-]{16,70})(?=[;\s]))""",
    re.IGNORECASE | re.MULTILINE,
)
_HEADERS_END = re.compile(rb"\n\r?\n")
_BARE_CR = re.compile(rb"\r(?!\n)")
_LINE_END = re.compile(rb"[ \t]*(?:\r|\n|\Z)")
_SHARED = "frontdesk-shared-boundary-0000"


def _shared_boundary(raw: bytes) -> bytes | None:
    """The mail with its top-level boundary renamed to one name shared by all mails, or None when
    it has none we can rename for sure. Only the boundary's own places change: its parameter in
    the mail's headers, and its delimiter lines up to the closing one (`--boundary`, then `--` or
    not, spaces, the line's end). A boundary found anywhere else (RFC 2046 forbids it) leaves the
    mail as it came."""
    shared = _SHARED.encode()
    end = _HEADERS_END.search(raw)
    if end is None or shared in raw or _BARE_CR.search(raw, 0, end.end()):
        return None  # no body, the name already there, or headers whose lines a bare CR splits
    split = end.end() - 1  # the body, from the line end before its first line
    found = _BOUNDARY.search(raw, 0, split)
    if found is None:
        return None
    group = 1 if found[1] is not None else 2
    boundary = found[group]
    if boundary in raw[found.end(group) : split]:
        return None
    pieces, at = [raw[: found.start(group)], shared, raw[found.end(group) : split]], split
    while (place := raw.find(boundary, at)) != -1:
        closing = _delimiter(raw, place, boundary)
        if closing is None:
            return None
        pieces += [raw[at:place], shared]
        at = place + len(boundary)
        if closing:
            if raw.find(boundary, at) != -1:
                return None  # in the epilogue
            break
    pieces.append(raw[at:])
    return b"".join(pieces)


def _delimiter(raw: bytes, place: int, boundary: bytes) -> bool | None:
    """Whether the boundary at `place` is a closing delimiter (True), an opening one (False), or
    no delimiter at all (None)."""
    if raw[place - 2 : place] != b"--" or raw[place - 3 : place - 2] not in (b"\n", b"\r"):
        return None
    after = place + len(boundary)
    closing = raw.startswith(b"--", after)
    return closing if _LINE_END.match(raw, after + 2 * closing) else None


def message_of(raw: bytes) -> EmailMessage:
    """The mail parsed with policy `default`. The parser compiles a regular expression for each
    boundary it meets, and every mail has its own: compiling it, and parsing a Content-Type header
    seen once, took half of a mail's reading. A multipart mail is parsed with its boundary renamed
    (above), so that both come from their caches; when the parser did not read the new name as the
    boundary of a multipart, the mail is parsed again as it came. The tests hold both readings
    equal (tests/channels/test_email_boundary.py)."""
    shared = _shared_boundary(raw)
    if shared is not None:
        message = _PARSER.parsebytes(shared)
        if message.get_content_maintype() == "multipart" and message.get_boundary() == _SHARED:
            assert isinstance(message, EmailMessage)  # policy `default`'s class
            return message
    message = _PARSER.parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def read(raw: bytes) -> Mail:
    """The one thing a mail is: a contact's message with its files, a notice, a status, or skipped."""
    return mail_of(message_of(raw), raw)


def mail_of(message: EmailMessage, raw: bytes) -> Mail:
    """What `message`, parsed from `raw`, is."""
    message_id = _first_id(_header(message, "Message-ID")) or f"sha256:{hashlib.sha256(raw).hexdigest()}"
    if _is_report(message):
        return Mail(_report(message, message_id))
    sender, name = _sender(message)
    if sender is None:
        return Mail(Ignored("an e-mail without a From address", message_id))
    subject = _header(message, "Subject")[:MAX_SUBJECT] or None
    if _is_automatic(message):
        return Mail(Notice(sender, message_id, f"Automatic reply from {sender}: {subject or '(no subject)'}"))
    files = _files(message)
    text = (_text(message) or ("" if files else (subject or "")))[:MAX_MESSAGE_CHARS]
    if not text and not files:
        return Mail(Ignored("an e-mail without text, subject or attachment", message_id))
    references = tuple(_ids(_header(message, "In-Reply-To")) + list(reversed(_ids(_header(message, "References")))))
    item = InboundItem(sender, message_id, text, name, subject=subject, references=references)
    return Mail(item, files)


def normal_id(value: str) -> str:
    """A Message-ID as stored: without its angle brackets, hashed when longer than the column."""
    return value if len(value) <= MAX_ID else f"sha256:{hashlib.sha256(value.encode()).hexdigest()}"


def _header(message: Message, name: str) -> str:
    """The header's first value, unfolded. A plain ASCII value (most are) is read as it came: the
    policy's reading would build a parsed header object only to print it back (a new object for
    every From, Subject and Message-ID, a third of a mail's cost). Encoded words and 8-bit
    values go through the policy, which decodes them."""
    raw = next((value for key, value in message.raw_items() if key.lower() == name.lower()), None)
    if raw is None:
        return ""
    if not (isinstance(raw, str) and raw.isascii() and "=?" not in raw):
        try:
            raw = message.get(name)
        except (ValueError, IndexError):  # a malformed header the parser could not make sense of
            return ""
    return " ".join(str(raw).split())


def _ids(value: str) -> list[str]:
    return [normal_id(found) for found in _ID.findall(value)]


def _first_id(value: str) -> str | None:
    found = _ids(value)
    return found[0] if found else None


def _sender(message: Message) -> tuple[str | None, str | None]:
    """The From address, lower-cased (the contact's identity), and its display name."""
    pairs = [(name, address) for name, address in getaddresses([_header(message, "From")]) if "@" in address]
    if not pairs:
        return None, None
    name, address = pairs[0]
    return address.strip().lower()[:MAX_ID], name.strip()[:200] or None


def _is_automatic(message: Message) -> bool:
    """An out-of-office, a vacation notice, a list's or a robot's mail (RFC 3834 and the usual headers)."""
    submitted = _header(message, "Auto-Submitted").lower()
    if submitted and submitted != "no":
        return True
    if _header(message, "Precedence").lower() in _AUTOMATIC_PRECEDENCE:
        return True
    return any(_header(message, name) for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response"))


def _is_report(message: Message) -> bool:
    return message.get_content_type() == "multipart/report" and message.get_param("report-type") == "delivery-status"


def _report(message: EmailMessage, message_id: str) -> Item:
    """A delivery status notification (RFC 3464): the mail it names failed, with the report's reason."""
    fields, original = _status_fields(message), _original_id(message)
    action = fields.get("action", "").lower()
    if action != "failed":
        return Ignored(f"a delivery report saying {action or 'nothing'!r}", message_id)
    if original is None:
        return Ignored("a delivery report naming no message", message_id)
    reason = fields.get("diagnostic-code") or fields.get("status") or "the recipient's server refused the mail"
    recipient = fields.get("final-recipient", "").rpartition(";")[2].strip()
    return StatusUpdate(original, DeliveryStatus.FAILED, f"bounced{f' by {recipient}' if recipient else ''}: {reason}")


def _status_fields(message: EmailMessage) -> dict[str, str]:
    """The message/delivery-status part's fields (the per-message ones, then the first recipient's)."""
    fields: dict[str, str] = {}
    for part in message.walk():
        blocks = part.get_payload() if part.get_content_type() == "message/delivery-status" else None
        for block in blocks if isinstance(blocks, list) else []:
            for name, value in block.items() if isinstance(block, Message) else []:
                fields.setdefault(name.lower(), " ".join(str(value).split())[:500])
    return fields


def _original_id(message: EmailMessage) -> str | None:
    """The Message-ID of the returned mail (its whole copy, or only its headers)."""
    for part in message.walk():
        kind, payload = part.get_content_type(), part.get_payload()
        if kind == "message/rfc822" and isinstance(payload, list) and isinstance(payload[0], Message):
            return _first_id(_header(payload[0], "Message-ID"))
        if kind == "text/rfc822-headers":
            content = part.get_payload(decode=True)
            headers = BytesParser(policy=policy.default).parsebytes(content if isinstance(content, bytes) else b"")
            return _first_id(_header(headers, "Message-ID"))
    return None


def _text(message: EmailMessage) -> str:
    """The reply's own text: from text/plain, else from the HTML made plain, history stripped."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except (LookupError, ValueError):  # an unknown charset or a broken transfer encoding
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    return reply_text(html_text(content) if body.get_content_type() == "text/html" else content)


def _files(message: EmailMessage) -> tuple[MimeFile, ...]:
    files = (_file(part) for part in message.iter_attachments())
    return tuple(file for file in files if file is not None)[:MAX_ATTACHMENTS]


def _file(part: EmailMessage) -> MimeFile | None:
    content = part.get_payload(decode=True)
    if not isinstance(content, bytes) or not content:  # a forwarded message/rfc822, an empty part
        return None
    return MimeFile(content, part.get_content_type(), clean_name(part.get_filename()))
