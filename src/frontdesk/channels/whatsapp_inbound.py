"""What a WhatsApp Cloud API webhook holds, as normalized items: messages (text, interactive
replies, template buttons, media to fetch, locations, contact cards), reactions and unsupported
types as notices, and statuses of earlier outbound messages. Pure: no I/O, never raises on a
payload, whatever its shape (a property test feeds it arbitrary JSON)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from frontdesk.channels.base import Ignored, InboundItem, Item, Notice, StatusUpdate
from frontdesk.channels.payload import is_number, mapping, string
from frontdesk.domain.attachments import MAX_ATTACHMENTS, MAX_FILE_NAME, NewAttachment
from frontdesk.domain.model import AttachmentKind, AttachmentState, DeliveryStatus

# Meta's media message types, as the inbox shows them (a sticker is an image, a voice note audio).
_MEDIA = {
    "image": AttachmentKind.IMAGE,
    "sticker": AttachmentKind.IMAGE,
    "audio": AttachmentKind.AUDIO,
    "video": AttachmentKind.VIDEO,
    "document": AttachmentKind.FILE,
}
_STATUSES = {
    "sent": DeliveryStatus.SENT,
    "delivered": DeliveryStatus.DELIVERED,
    "read": DeliveryStatus.READ,
    "failed": DeliveryStatus.FAILED,
}


def parse(payload: Any) -> list[Item]:
    """Every message and status of every change, in the payload's order."""
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return [Ignored("not a whatsapp_business_account webhook")]
    return [item for value in _values(payload) for item in _items(value)]


def _values(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes")):
            value = change.get("value")
            if isinstance(value, dict):
                yield value


def _list(value: Any) -> list[dict[str, Any]]:
    return [x for x in value if isinstance(x, dict)] if isinstance(value, list) else []


def _items(value: dict[str, Any]) -> Iterator[Item]:
    contacts = _list(value.get("contacts"))
    names = {c["wa_id"]: mapping(c.get("profile")).get("name") for c in contacts if isinstance(c.get("wa_id"), str)}
    for message in _list(value.get("messages")):
        yield _message(message, names)
    for status in _list(value.get("statuses")):
        yield _status(status)


def _message(message: dict[str, Any], names: Mapping[Any, Any]) -> Item:
    sender, provider_id, kind = message.get("from"), message.get("id"), string(message.get("type"), 40) or "unknown"
    if not isinstance(sender, str) or not isinstance(provider_id, str) or not sender or not provider_id:
        return Ignored("a message without from or id")
    if kind == "reaction":
        return _reaction(sender, provider_id, mapping(message.get("reaction")))
    text, reply_id = _text(message, kind)
    attachments = _attachments(message, kind)
    if not text and not attachments:
        return Notice(sender, provider_id, f"The contact sent a message type Frontdesk cannot show ({kind})")
    name = names.get(sender)
    contact_name = name if isinstance(name, str) and name else None
    return InboundItem(sender, provider_id, text, contact_name, reply_id=reply_id, attachments=attachments)


def _text(message: dict[str, Any], kind: str) -> tuple[str, str | None]:
    """The message's text (a media's caption) and, for a tapped button or list row, its id."""
    if kind == "text":
        return str(mapping(message.get("text")).get("body") or ""), None
    if kind in _MEDIA:
        return str(mapping(message.get(kind)).get("caption") or ""), None
    if kind == "button":  # a template's quick-reply button
        button = mapping(message.get("button"))
        return str(button.get("text") or ""), string(button.get("payload"))
    if kind == "interactive":
        interactive = mapping(message.get("interactive"))
        reply = interactive.get(str(interactive.get("type")))
        if interactive.get("type") in ("button_reply", "list_reply") and isinstance(reply, dict):
            return str(reply.get("title") or ""), string(reply.get("id"))
    return "", None


def _attachments(message: dict[str, Any], kind: str) -> tuple[NewAttachment, ...]:
    """Media to fetch by its id, or a location or contact cards (nothing to fetch: ready now)."""
    if kind in _MEDIA:
        media = mapping(message.get(kind))
        media_id = string(media.get("id"), 500)
        if media_id is None:
            return ()
        return (
            NewAttachment(
                _MEDIA[kind],
                provider_media_id=media_id,
                mime_type=string(media.get("mime_type"), 200),
                file_name=string(media.get("filename"), MAX_FILE_NAME),
                sha256=string(media.get("sha256"), 64),
            ),
        )
    if kind == "location":
        place = _location(mapping(message.get("location")))
        return () if place is None else (place,)
    if kind == "contacts":
        cards = _list(message.get("contacts"))[:MAX_ATTACHMENTS]
        return tuple(_contact_card(card) for card in cards)
    return ()


def _location(location: dict[str, Any]) -> NewAttachment | None:
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if not is_number(latitude) or not is_number(longitude):
        return None
    data = {
        "latitude": latitude,
        "longitude": longitude,
        "name": string(location.get("name"), 500),
        "address": string(location.get("address"), 500),
    }
    return NewAttachment(AttachmentKind.LOCATION, AttachmentState.READY, data=data)


def _contact_card(card: dict[str, Any]) -> NewAttachment:
    name = mapping(card.get("name"))
    phones = [string(phone.get("phone"), 100) for phone in _list(card.get("phones"))]
    data = {
        "name": string(name.get("formatted_name"), 500) or string(name.get("first_name"), 500),
        "phones": [phone for phone in phones if phone],
    }
    return NewAttachment(AttachmentKind.CONTACT, AttachmentState.READY, data=data)


def _reaction(sender: str, provider_id: str, reaction: dict[str, Any]) -> Item:
    """A reaction to one of our messages: a note in the open conversation, never a message to answer."""
    emoji = string(reaction.get("emoji"), 20)
    return Notice(
        sender, provider_id, f"The contact reacted {emoji} to a message" if emoji else "The contact removed a reaction"
    )


def _status(status: dict[str, Any]) -> Item:
    provider_id, state = status.get("id"), _STATUSES.get(str(status.get("status")))
    if not isinstance(provider_id, str) or state is None:
        return Ignored(f"status {status.get('status')!r} is not one frontdesk follows", string(provider_id))
    errors = _list(status.get("errors"))
    error = (errors[0].get("title") or errors[0].get("message")) if errors else None
    if state is DeliveryStatus.FAILED and not error:
        error = "WhatsApp reported the message failed"
    return StatusUpdate(provider_id, state, None if error is None else str(error))
