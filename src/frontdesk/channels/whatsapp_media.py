"""WhatsApp's outbound media, as bodies: which Graph message type each attachment goes as, its
caption, and the upload form. Pure: channels/whatsapp.py uploads and sends them.

An attachment Frontdesk stores is uploaded (`POST /{phone number id}/media`, multipart) and sent
by the media id Meta answers; a link is sent as `link`. A MIME type Meta does not take for the
kind (a WebP photo, a WebM video) goes as a document, which takes any file.
"""

from __future__ import annotations

from typing import Any

from frontdesk.channels.outbound_media import CAPTION_MAX, MB, mime_of
from frontdesk.domain.model import AttachmentKind
from frontdesk.domain.records import Attachment, Outbound

# Meta's limits by the kind Frontdesk gives an attachment (a document takes any file up to 100 MB).
LIMITS: dict[str, int] = {
    AttachmentKind.IMAGE: 5 * MB,
    AttachmentKind.AUDIO: 16 * MB,
    AttachmentKind.VIDEO: 16 * MB,
    AttachmentKind.FILE: 100 * MB,
}
_TYPES = {
    AttachmentKind.IMAGE: {"image/jpeg", "image/png"},
    AttachmentKind.AUDIO: {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"},
    AttachmentKind.VIDEO: {"video/mp4", "video/3gpp"},
}
_CAPTIONED = {"image", "video", "document"}  # audio takes no caption


def graph_type(attachment: Attachment) -> str:
    """image, audio, video or document: what the Graph API is told the media is."""
    taken = _TYPES.get(AttachmentKind(attachment.kind))
    mime = mime_of(attachment)
    return attachment.kind if taken is not None and (not mime or mime in taken) else "document"


def caption(message: Outbound) -> str | None:
    """The text, when it can be the first media's caption (no options to show with it, a type that
    takes one, short enough); else None and the text goes as a message of its own."""
    first = message.attachments[0]
    fits = 0 < len(message.text) <= CAPTION_MAX and graph_type(first) in _CAPTIONED
    return message.text if fits and not message.quick_replies else None


def media_bodies(base: dict[str, Any], message: Outbound, refs: list[dict[str, str]]) -> list[dict[str, Any]]:
    """One Graph message per attachment; `refs` holds each one's `{"id": …}` or `{"link": …}`."""
    text = caption(message)
    bodies = []
    for n, (attachment, ref) in enumerate(zip(message.attachments, refs, strict=True)):
        kind, media = graph_type(attachment), dict(ref)
        if n == 0 and text is not None:
            media["caption"] = text
        if kind == "document" and attachment.file_name:
            media["filename"] = attachment.file_name
        bodies.append({**base, "type": kind, kind: media})
    return bodies


def upload_form(attachment: Attachment, content: bytes) -> tuple[dict[str, str], dict[str, tuple[str, bytes, str]]]:
    """The multipart fields of `POST /{phone number id}/media`: the file, its type, the product."""
    mime = mime_of(attachment) or "application/octet-stream"
    fields = {"messaging_product": "whatsapp", "type": mime}
    return fields, {"file": (attachment.file_name or f"attachment-{attachment.id}", content, mime)}
