"""Attachments as the domain sees them: what a new one carries, and which types are safe to show.

Pure: the media store (store/media.py) keeps the bytes, the store's `attachments` rows the rest.
A channel adapter, an agent's upload, the API and a workflow all describe a new attachment with
`NewAttachment`; ingest and `send_message` store it with its message, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import AttachmentKind, AttachmentState

MAX_ATTACHMENTS = 10  # on one message
MAX_FILE_NAME = 255

# Shown inline in our pages (an <img>, <audio>, <video>); anything else is served as a download,
# so an uploaded HTML or SVG file can never run script in our origin.
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
        "audio/wav",
        "video/mp4",
        "video/3gpp",
        "video/webm",
    }
)


@dataclass(frozen=True)
class NewAttachment:
    """An attachment to store with its message: content already stored (`storage_key`), to fetch
    (`provider_media_id` or `source_url`, state pending), or none at all (a location, a contact)."""

    kind: AttachmentKind
    state: AttachmentState = AttachmentState.PENDING
    mime_type: str | None = None
    size: int | None = None
    file_name: str | None = None
    sha256: str | None = None
    storage_key: str | None = None
    provider_media_id: str | None = None
    source_url: str | None = None
    data: dict[str, Any] | None = None


def kind_of(mime_type: str | None) -> AttachmentKind:
    """The kind a MIME type shows as: image/audio/video by their top-level type, else a file."""
    top = (mime_type or "").partition("/")[0].lower()
    return {"image": AttachmentKind.IMAGE, "audio": AttachmentKind.AUDIO, "video": AttachmentKind.VIDEO}.get(
        top, AttachmentKind.FILE
    )


def shows_inline(mime_type: str | None) -> bool:
    """Whether a page may show this content inline (never HTML, SVG or anything unknown)."""
    return (mime_type or "").split(";")[0].strip().lower() in INLINE_TYPES


def check_attachments(attachments: Sequence[NewAttachment], field: str) -> None:
    if len(attachments) > MAX_ATTACHMENTS:
        raise InvalidInput("too_many_attachments", f"{field}: at most {MAX_ATTACHMENTS} attachments", field)
    for attachment in attachments:
        if attachment.file_name is not None and len(attachment.file_name) > MAX_FILE_NAME:
            raise InvalidInput(
                "file_name_too_long", f"{field}: a file name is at most {MAX_FILE_NAME} characters", field
            )
