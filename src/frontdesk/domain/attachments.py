"""Attachments as the domain sees them: what a new one carries, and which types are safe to show.

Pure: the media store (store/media.py) keeps the bytes, the store's `attachments` rows the rest.
A channel adapter, an agent's upload, the API and a workflow all describe a new attachment with
`NewAttachment`; ingest and `send_message` store it with its message, in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import AttachmentKind, AttachmentState

MAX_ATTACHMENTS = 10  # on one message
MAX_FILE_NAME = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

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


def clean_name(file_name: str | None) -> str | None:
    """The file's own name (no folders, no control characters), at most 255 characters."""
    name = _CONTROL.sub("", PurePosixPath((file_name or "").replace("\\", "/")).name).strip()
    return name[-MAX_FILE_NAME:] or None


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


# Leading bytes of the formats people send (RIFF-based ones also need their form type at offset 8).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"OggS", "audio/ogg"),
    (b"ID3", "audio/mpeg"),
    (b"#!AMR", "audio/amr"),
    (b"\x1a\x45\xdf\xa3", "video/webm"),
    (b"PK\x03\x04", "application/zip"),
)
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_MARKUP_TYPES = ("text/html", "image/svg+xml")
_MARKUP = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe", b"<?xml", b"<svg")


def sniff(content: bytes) -> str | None:
    """The type the bytes themselves show (None: not one we recognise). Markup is named as such
    — HTML or SVG — whatever a sender declared, so it is never shown inline."""
    head = content[:512]
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[4:8] == b"ftyp":
        return "video/3gpp" if head[8:11] == b"3gp" else ("audio/mp4" if head[8:11] == b"M4A" else "video/mp4")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # an MPEG audio frame without an ID3 tag
    lowered = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if b"<svg" in lowered[:256] and lowered.startswith((b"<svg", b"<?xml", b"<!doctype svg")):
        return "image/svg+xml"
    if lowered.startswith(_MARKUP):
        return "text/html"
    return None


def content_type(content: bytes, declared: str | None) -> tuple[str, str | None]:
    """The MIME type to store and serve, and why the content is refused (None: accepted).

    The bytes decide when they are recognised; a declared type they contradict within media
    (an "image/jpeg" that is HTML, a "video/mp4" that is a PNG) is a lie and refused. Unknown bytes
    keep a declared non-markup type, or are `application/octet-stream`."""
    said = (declared or "").split(";")[0].strip().lower() or None
    seen = sniff(content)
    if seen is None:
        if said in _MARKUP_TYPES or said is None:
            return "application/octet-stream", None
        return said, None
    claims_media = said is not None and said != seen and kind_of(said) is not AttachmentKind.FILE
    if claims_media and (kind_of(said) is not kind_of(seen) or seen in _MARKUP_TYPES):
        return seen, f"declared {said} but the content is {seen}"
    return seen, None
