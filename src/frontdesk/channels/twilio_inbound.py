"""What a Twilio Messaging webhook holds, as normalized items: an incoming SMS/MMS (its media by
URL, fetched later), a status callback of an earlier outbound message, or an opt-out keyword.

Twilio posts form fields (`MessageSid`, `From`, `To`, `Body`, `NumMedia`, `MediaUrl0`,
`MediaContentType0`, …; a status callback adds `MessageStatus` and `ErrorCode`). STOP and START
keywords are not messages to answer: they change whether the number may be texted, and become a
note in the open conversation. Pure: no I/O, never raises on a payload.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from frontdesk.channels.base import Ignored, InboundItem, Item, Notice, OptOut, StatusUpdate
from frontdesk.channels.payload import string
from frontdesk.domain.attachments import MAX_ATTACHMENTS, NewAttachment, kind_of
from frontdesk.domain.model import DeliveryStatus

_DIGITS = re.compile(r"[0-9]{1,3}")  # ASCII digits: str.isdigit() also takes "²"
# Twilio's default opt-out and opt-in keywords: the whole body, trimmed, in any case.
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "undelivered": DeliveryStatus.FAILED,
    "failed": DeliveryStatus.FAILED,
}
# The error codes a status callback most often carries (Twilio's error dictionary), said plainly.
_ERRORS = {
    "21610": "the recipient replied STOP to this sender",
    "30003": "unreachable destination handset",
    "30004": "message blocked",
    "30005": "unknown destination handset",
    "30006": "landline or unreachable carrier",
    "30007": "filtered as spam by the carrier",
    "30008": "unknown error",
}


def parse(form: Mapping[str, str]) -> list[Item]:
    """One webhook holds one thing: a message, a status, or something skipped."""
    sid = string(form.get("MessageSid"), 200)
    if sid is None:
        return [Ignored("not a Twilio messaging webhook (no MessageSid)")]
    status = form.get("MessageStatus")
    if status and status != "received":
        return [_status(sid, status, form.get("ErrorCode"))]
    sender = string(form.get("From"), 200)
    if sender is None:
        return [Ignored("a message without From", sid)]
    keyword = opt_out(form)
    if keyword is not None:
        what = "opted out of" if keyword.opted_out else "opted back in to"
        return [Notice(sender, sid, f"The contact {what} SMS from this number ({keyword.keyword})")]
    text, attachments = form.get("Body") or "", _media(form)
    if not text and not attachments:
        return [Ignored("a message without a body or media", sid)]
    return [InboundItem(sender, sid, text, attachments=attachments)]


def opt_out(form: Mapping[str, str]) -> OptOut | None:
    """The opt-out keyword a message is, if any: Twilio's `OptOutType` (Advanced Opt-Out) when it
    says STOP or START, else the body as Twilio's default keywords match it."""
    sid, sender = string(form.get("MessageSid"), 200), string(form.get("From"), 200)
    if sid is None or sender is None or (form.get("MessageStatus") or "received") != "received":
        return None
    word = (form.get("Body") or "").strip().upper()
    kind = (form.get("OptOutType") or "").upper()
    if kind == "STOP" or (not kind and word in STOP_WORDS):
        return OptOut(sender, sid, True, word or kind)
    if kind == "START" or (not kind and word in START_WORDS):
        return OptOut(sender, sid, False, word or kind)
    return None


def _media(form: Mapping[str, str]) -> tuple[NewAttachment, ...]:
    """`MediaUrl0`…`MediaUrl{NumMedia-1}` with their `MediaContentTypeN`: fetched later by URL."""
    count = form.get("NumMedia") or "0"
    found = []
    for n in range(min(int(count) if _DIGITS.fullmatch(count) else 0, MAX_ATTACHMENTS)):
        url = string(form.get(f"MediaUrl{n}"), 500)
        if url is None:
            continue
        mime_type = string(form.get(f"MediaContentType{n}"), 200)
        found.append(NewAttachment(kind_of(mime_type), provider_media_id=url, mime_type=mime_type))
    return tuple(found)


def _status(sid: str, status: str, code: str | None) -> Item:
    state = _STATUSES.get(status)
    if state is None:  # queued, accepted, sending, scheduled: the message is already `sent` here
        return Ignored(f"status {status!r} is not one frontdesk follows", sid)
    if state is not DeliveryStatus.FAILED:
        return StatusUpdate(sid, state)
    return StatusUpdate(sid, state, error_text(status, code))


def error_text(status: str, code: str | None) -> str:
    """`undelivered: Twilio error 30003 (unreachable destination handset)`."""
    if not code:
        return f"Twilio reported the message {status}"
    meaning = _ERRORS.get(code)
    return f"{status}: Twilio error {code[:10]}" + (f" ({meaning})" if meaning else "")
