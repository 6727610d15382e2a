"""Telegram's outbound media, as calls: which Bot API method each attachment goes by, with what
fields. Pure: channels/telegram.py sends them.

A stored file is uploaded with its method (`sendPhoto`, `sendVoice`, …: multipart, the bytes in the
method's field); a link is passed as that field's value and Telegram fetches it. The text is the
first media's caption when it fits (≤ 1024 characters), and a question's inline keyboard goes on
the last media; a longer text goes first as a message of its own, with the keyboard.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from frontdesk.channels.outbound_media import CAPTION_MAX, MB, mime_of
from frontdesk.domain.model import AttachmentKind
from frontdesk.domain.records import Attachment

# Bots upload files up to 50 MB and photos up to 10 MB (Telegram fetches links up to 5 / 20 MB).
LIMITS: dict[str, int] = {
    AttachmentKind.IMAGE: 10 * MB,
    AttachmentKind.AUDIO: 50 * MB,
    AttachmentKind.VIDEO: 50 * MB,
    AttachmentKind.FILE: 50 * MB,
}
_PHOTOS = {"image/jpeg", "image/png", "image/webp"}
_VOICE = {"audio/ogg"}  # a voice note: OGG with OPUS
_AUDIO = {"audio/mpeg", "audio/mp4", "audio/aac"}  # a track, shown with the music player
_VIDEOS = {"video/mp4"}


@dataclass(frozen=True)
class Call:
    """One Bot API call carrying one attachment: the method, its media field and other fields."""

    method: str
    field: str
    attachment: Attachment
    fields: dict[str, Any]


def method_of(attachment: Attachment) -> tuple[str, str]:
    """(method, field) for an attachment: an unknown or odd type goes as a document."""
    mime, kind = mime_of(attachment), attachment.kind
    if kind == AttachmentKind.IMAGE and mime in _PHOTOS | {""}:
        return "sendPhoto", "photo"
    if kind == AttachmentKind.AUDIO and mime in _VOICE:
        return "sendVoice", "voice"
    if kind == AttachmentKind.AUDIO and mime in _AUDIO | {""}:
        return "sendAudio", "audio"
    if kind == AttachmentKind.VIDEO and mime in _VIDEOS | {""}:
        return "sendVideo", "video"
    return "sendDocument", "document"


def calls(chat_id: int | str, attachments: list[Attachment], lead: dict[str, Any] | None) -> list[Call]:
    """One call per attachment; `lead` is the text message (text, keyboard) the first caption and
    the last keyboard come from, when it fits a caption."""
    found = []
    for n, attachment in enumerate(attachments):
        method, field = method_of(attachment)
        fields: dict[str, Any] = {"chat_id": chat_id}
        if lead is not None and n == 0 and lead["text"]:
            fields["caption"] = lead["text"]
        if lead is not None and n == len(attachments) - 1 and "reply_markup" in lead:
            fields["reply_markup"] = lead["reply_markup"]
        found.append(Call(method, field, attachment, fields))
    return found


def fits_caption(lead: dict[str, Any]) -> bool:
    return 0 < len(lead["text"]) <= CAPTION_MAX


def form(call: Call, content: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The multipart fields of an upload: every value as text (the keyboard as JSON), the file."""
    fields = {k: v if isinstance(v, str) else json.dumps(v) for k, v in call.fields.items()}
    mime = mime_of(call.attachment) or "application/octet-stream"
    name = call.attachment.file_name or f"attachment-{call.attachment.id}"
    return fields, {call.field: (name, content, mime)}
