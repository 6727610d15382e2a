"""What a Telegram Bot API update holds, as a normalized item: a private chat's message (text,
caption, photo, document, voice, audio, video, video note, sticker, location, contact), a
callback query from an inline keyboard, or a kind acknowledged and skipped (edited messages,
channel posts, membership changes). Pure: no I/O, never raises on a payload."""

from __future__ import annotations

from typing import Any

from frontdesk.channels.base import Ignored, InboundItem, Item
from frontdesk.channels.payload import is_number, string
from frontdesk.domain.attachments import MAX_FILE_NAME, NewAttachment, kind_of
from frontdesk.domain.model import AttachmentKind, AttachmentState

# The message fields holding a file, in the order a message is read, with the type a field's file
# has when Telegram names none (a photo's sizes have no mime_type, a video note is always MP4).
_FILES: dict[str, str | None] = {
    "photo": "image/jpeg",
    "document": None,
    "voice": "audio/ogg",
    "audio": None,
    "video": "video/mp4",
    "video_note": "video/mp4",
    "sticker": "image/webp",
}
_SKIPPED_KINDS = ("edited_message", "channel_post", "edited_channel_post", "my_chat_member", "chat_member")


def parse(payload: Any) -> list[Item]:
    """One update holds one thing: a message, a callback query, or a kind skipped."""
    if not isinstance(payload, dict) or not isinstance(payload.get("update_id"), int):
        return [Ignored("not a Telegram update (no update_id)")]
    if isinstance(payload.get("message"), dict):
        return [_message(payload["message"])]
    if isinstance(payload.get("callback_query"), dict):
        return [_callback(payload["callback_query"])]
    kind = next((key for key in payload if key != "update_id"), "empty")
    known = "is not taken" if kind in _SKIPPED_KINDS else "is not supported"
    return [Ignored(f"update kind {kind!r} {known}", f"update:{payload['update_id']}")]


def _message(message: dict[str, Any]) -> Item:
    chat, sender, message_id = message.get("chat"), message.get("from"), message.get("message_id")
    if not isinstance(chat, dict) or not isinstance(chat.get("id"), int) or not isinstance(message_id, int):
        return Ignored("a message without chat.id or message_id")
    provider_id = f"{chat['id']}:{message_id}"
    if chat.get("type") != "private":
        return Ignored(f"a message in a {chat.get('type')!r} chat: only private chats are taken", provider_id)
    text = message.get("text") if isinstance(message.get("text"), str) else message.get("caption")
    text = text if isinstance(text, str) else ""
    attachments = _attachments(message)
    if not text and not attachments:
        return Ignored("a message without text or an attachment Frontdesk takes", provider_id)
    person = sender if isinstance(sender, dict) else chat
    return InboundItem(str(chat["id"]), provider_id, text, _name(person), attachments=attachments)


def _attachments(message: dict[str, Any]) -> tuple[NewAttachment, ...]:
    """The file a message carries (by its file_id, fetched later), or a location or contact."""
    for kind, default_type in _FILES.items():
        file = _largest(message.get("photo")) if kind == "photo" else message.get(kind)
        if isinstance(file, dict) and string(file.get("file_id")):
            return (_file(file, _sticker_type(file) if kind == "sticker" else default_type),)
    place = _location(message)
    if place is not None:
        return (place,)
    contact = message.get("contact")
    if isinstance(contact, dict) and string(contact.get("phone_number")):
        name = " ".join(p for p in (string(contact.get("first_name")), string(contact.get("last_name"))) if p)
        data = {"name": name or None, "phones": [string(contact.get("phone_number"))]}
        return (NewAttachment(AttachmentKind.CONTACT, AttachmentState.READY, data=data),)
    return ()


def _largest(photo: Any) -> dict[str, Any] | None:
    """A photo comes in several sizes: the largest one's file."""
    sizes = [size for size in photo if isinstance(size, dict)] if isinstance(photo, list) else []
    return max(sizes, key=lambda size: _area(size), default=None)


def _area(size: dict[str, Any]) -> int:
    width, height, file_size = size.get("width"), size.get("height"), size.get("file_size")
    numbers = [n if isinstance(n, int) and not isinstance(n, bool) else 0 for n in (width, height, file_size)]
    return numbers[0] * numbers[1] * 10**12 + numbers[2]


def _file(file: dict[str, Any], default_type: str | None) -> NewAttachment:
    mime_type = string(file.get("mime_type"), 200) or default_type
    size = file.get("file_size")
    return NewAttachment(
        kind_of(mime_type),
        provider_media_id=string(file.get("file_id"), 500),
        mime_type=mime_type,
        size=size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None,
        file_name=string(file.get("file_name"), MAX_FILE_NAME),
    )


def _sticker_type(sticker: dict[str, Any]) -> str:
    """A sticker is a WebP image, a WebM video, or an animated `.tgs` (gzipped Lottie: a file)."""
    if sticker.get("is_video") is True:
        return "video/webm"
    return "application/x-tgsticker" if sticker.get("is_animated") is True else "image/webp"


def _location(message: dict[str, Any]) -> NewAttachment | None:
    """A location, or a venue (a location with a title and an address)."""
    location, venue = message.get("location"), message.get("venue")
    if not isinstance(location, dict):
        return None
    latitude, longitude = location.get("latitude"), location.get("longitude")
    if not is_number(latitude) or not is_number(longitude):
        return None
    venue = venue if isinstance(venue, dict) else {}
    data = {
        "latitude": latitude,
        "longitude": longitude,
        "name": string(venue.get("title")),
        "address": string(venue.get("address")),
    }
    return NewAttachment(AttachmentKind.LOCATION, AttachmentState.READY, data=data)


def _callback(query: dict[str, Any]) -> Item:
    query_id, sender, data = query.get("id"), query.get("from"), query.get("data")
    if not isinstance(query_id, str) or not isinstance(sender, dict) or not isinstance(sender.get("id"), int):
        return Ignored("a callback query without id or from.id")
    provider_id = f"callback:{query_id}"
    if not isinstance(data, str) or not data:
        return Ignored("a callback query without data (a game button)", provider_id)
    return InboundItem(str(sender["id"]), provider_id, data, _name(sender), reply_id=data)


def _name(person: dict[str, Any]) -> str | None:
    parts = [person.get("first_name"), person.get("last_name")]
    full = " ".join(part for part in parts if isinstance(part, str) and part)
    username = person.get("username")
    return full or (f"@{username}" if isinstance(username, str) and username else None)
