"""What a Messenger or Instagram webhook holds (`object: page` / `instagram`, `entry[].messaging[]`),
as normalized items: messages (text, quick-reply answers, media to fetch, Instagram story replies
and mentions), postbacks, reactions as notices, delivery and read receipts. Pure: no I/O, never
raises on a payload, whatever its shape.

Receipts that name messages (`delivery.mids`, Instagram's `read.mid`) are status updates; the ones
that only give a time (`watermark`) are `StatusUpTo`, read by `receipts_up_to` for the route to apply.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from frontdesk.channels.base import Ignored, InboundItem, Item, Notice, StatusUpdate, StatusUpTo
from frontdesk.channels.payload import is_number, mapping, string
from frontdesk.domain.attachments import MAX_ATTACHMENTS, NewAttachment
from frontdesk.domain.model import AttachmentKind, AttachmentState, DeliveryStatus

# The prefix of the payload Frontdesk gives a question's quick replies: the answer is the option after it.
OPTION_PAYLOAD = "frontdesk.option:"
_MEDIA = {
    "image": AttachmentKind.IMAGE,
    "audio": AttachmentKind.AUDIO,
    "video": AttachmentKind.VIDEO,
    "file": AttachmentKind.FILE,
}


def parse(payload: Any, expected_object: str) -> list[Item]:
    """Every event of every entry, in the payload's order (receipts by watermark left out)."""
    if not isinstance(payload, dict) or payload.get("object") != expected_object:
        return [Ignored(f"not an {expected_object!r} webhook")]
    return [item for event in _events(payload) for item in _items(event)]


def receipts_up_to(payload: Any, expected_object: str) -> list[StatusUpTo]:
    """The delivery and read receipts that give only a time: every message sent up to it."""
    if not isinstance(payload, dict) or payload.get("object") != expected_object:
        return []
    found = []
    for event in _events(payload):
        sender = string(mapping(event.get("sender")).get("id"))
        for key, status in (("delivery", DeliveryStatus.DELIVERED), ("read", DeliveryStatus.READ)):
            receipt = mapping(event.get(key))
            until = _time(receipt.get("watermark"))
            if sender and until and not receipt.get("mids") and not receipt.get("mid"):
                found.append(StatusUpTo(sender, status, until))
    return found


def _events(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in _list(payload.get("entry")):
        yield from _list(entry.get("messaging"))


def _list(value: Any) -> list[dict[str, Any]]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _strings(value: Any) -> list[str]:
    return [x for x in value if isinstance(x, str) and x] if isinstance(value, list) else []


def _items(event: dict[str, Any]) -> Iterator[Item]:
    sender = string(mapping(event.get("sender")).get("id"))
    if sender is None:
        yield Ignored("an event without sender.id")
    elif isinstance(event.get("message"), dict):
        yield _message(sender, event["message"])
    elif isinstance(event.get("postback"), dict):
        yield _postback(sender, event["postback"], event.get("timestamp"))
    elif isinstance(event.get("reaction"), dict):
        yield _reaction(sender, event["reaction"], event.get("timestamp"))
    elif isinstance(event.get("delivery"), dict):
        mids = event["delivery"].get("mids")
        yield from (StatusUpdate(m, DeliveryStatus.DELIVERED) for m in _strings(mids))
    elif isinstance(event.get("read"), dict):
        mid = string(event["read"].get("mid"))  # Instagram names the message read; Messenger a watermark
        if mid:
            yield StatusUpdate(mid, DeliveryStatus.READ)
    else:
        yield Ignored("an event kind frontdesk does not take")


def _message(sender: str, message: dict[str, Any]) -> Item:
    mid = string(message.get("mid"))
    if mid is None:
        return Ignored("a message without mid")
    if message.get("is_echo"):
        return Ignored("an echo of the page's own message", mid)
    if message.get("is_deleted") or message.get("is_unsupported"):
        return Notice(sender, mid, "The contact sent a message Frontdesk cannot show (deleted or unsupported)")
    text = message["text"] if isinstance(message.get("text"), str) else ""
    payload = string(mapping(message.get("quick_reply")).get("payload"), 1000)
    if payload and payload.startswith(OPTION_PAYLOAD):  # the answer is the option we sent, whatever the title
        text = payload.removeprefix(OPTION_PAYLOAD)
    attachments = (*_story(mapping(message.get("reply_to")).get("story"), "reply"), *_attachments(message))
    if not text and not attachments:
        return Notice(sender, mid, "The contact sent a message type Frontdesk cannot show")
    return InboundItem(sender, mid, text, reply_id=payload, attachments=attachments[:MAX_ATTACHMENTS])


def _attachments(message: dict[str, Any]) -> tuple[NewAttachment, ...]:
    found: list[NewAttachment] = []
    for attachment in _list(message.get("attachments")):
        kind, payload = string(attachment.get("type"), 40), mapping(attachment.get("payload"))
        url = string(payload.get("url"), 4000)
        if kind in _MEDIA and url:
            found.append(NewAttachment(_MEDIA[kind], source_url=url))
        elif kind == "story_mention":
            found.extend(_story(payload, "mention"))
        elif kind == "location":
            found.extend(_location(mapping(payload.get("coordinates")), string(attachment.get("title"))))
    return tuple(found)


def _story(story: Any, how: str) -> tuple[NewAttachment, ...]:
    """An Instagram story the contact replied to or mentioned the account in: its CDN link is kept,
    never its content (Meta's terms: the link expires with the story, and media must not be stored)."""
    url = string(mapping(story).get("url"), 4000)
    if url is None:
        return ()
    name = "Instagram story mention" if how == "mention" else "Reply to your Instagram story"
    data = {"story": how, "url": url, "id": string(mapping(story).get("id"), 100)}
    return (NewAttachment(AttachmentKind.FILE, AttachmentState.READY, file_name=name, data=data),)


def _location(coordinates: dict[str, Any], title: str | None) -> tuple[NewAttachment, ...]:
    latitude, longitude = coordinates.get("lat"), coordinates.get("long")
    if not is_number(latitude) or not is_number(longitude):
        return ()
    data = {"latitude": latitude, "longitude": longitude, "name": title, "address": None}
    return (NewAttachment(AttachmentKind.LOCATION, AttachmentState.READY, data=data),)


def _postback(sender: str, postback: dict[str, Any], timestamp: Any) -> Item:
    """A tapped button or Get Started: its title is what the contact said. A postback without a
    mid (older API versions) is known by its sender and time."""
    title, payload = string(postback.get("title"), 1000), string(postback.get("payload"), 1000)
    key = string(postback.get("mid")) or (f"postback:{sender}:{timestamp}" if is_number(timestamp) else None)
    if key is None or not (title or payload):
        return Ignored("a postback without mid, timestamp or title")
    return InboundItem(sender, key, title or str(payload), reply_id=payload)


def _reaction(sender: str, reaction: dict[str, Any], timestamp: Any) -> Item:
    """A reaction to one of our messages: a note in the open conversation, never a message to answer."""
    mid = string(reaction.get("mid"))
    if mid is None or not is_number(timestamp):
        return Ignored("a reaction without mid or timestamp")
    emoji = string(reaction.get("emoji"), 20)
    text = f"The contact reacted {emoji} to a message" if reaction.get("action") != "unreact" and emoji else ""
    return Notice(sender, f"reaction:{mid}:{timestamp}", text or "The contact removed a reaction")


def _time(value: Any) -> dt.datetime | None:
    """Meta's times: milliseconds since the epoch."""
    if not is_number(value) or not 0 < value < 1e14:
        return None
    return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
