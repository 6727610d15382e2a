"""Attachments people send: an uploaded file, or a URL the server fetches for them.

Either way every file of a message is checked first (size, type from the bytes), then all are put
in the media store (`store`) *before* the message is written, so a message never names content
that is not there; one refused file stores nothing and answers 4xx naming its field. A URL goes
through the same private-address guard as a workflow's HTTP step (frontdesk.destinations) and is
downloaded as the media fetcher downloads (channels.media: streamed, abandoned past the limit).
Upload routes (`opt={"upload_files": n}`) take bodies as large as n attachments (`allow_uploads`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

import anyio.to_thread
import httpx
from litestar import Litestar
from litestar.datastructures import UploadFile
from litestar.routes import HTTPRoute

from frontdesk import destinations
from frontdesk.channels import media as downloads
from frontdesk.domain.attachments import MAX_ATTACHMENTS, NewAttachment, clean_name, content_type
from frontdesk.domain.errors import DomainError, InvalidInput
from frontdesk.settings import Settings
from frontdesk.store.media import MediaStore, stored_attachment


class TooLarge(DomainError):
    """Content larger than FRONTDESK_MEDIA_MAX_BYTES."""

    status = 413


@dataclass(frozen=True)
class Checked:
    """A file's content, accepted: its type from the bytes, its cleaned name."""

    content: bytes
    mime_type: str
    file_name: str | None


async def uploaded(upload: UploadFile, limit: int, field: str) -> Checked:
    """An uploaded file, checked."""
    content = await upload.read(limit + 1)
    if len(content) > limit:
        raise TooLarge("attachment_too_large", f"{field}: {downloads.too_big(limit).error}", field)
    return _checked(content, upload.filename, upload.content_type, field)


async def store_uploads(media: MediaStore, files: Sequence[UploadFile], limit: int) -> list[NewAttachment]:
    """A form's `files`, each checked (named `files[i]`), then all stored."""
    if len(files) > MAX_ATTACHMENTS:
        raise InvalidInput("too_many_attachments", f"files: at most {MAX_ATTACHMENTS} files", "files")
    checked = [await uploaded(upload, limit, f"files[{i}]") for i, upload in enumerate(files)]
    return await store(media, checked)


async def fetched(url: str, file_name: str | None, settings: Settings, field: str) -> Checked:
    """The content at `url`, fetched (no redirects, private addresses refused unless the settings
    allow them) and checked; any failure is a 4xx naming `field` and why."""
    limit = settings.media_max_bytes
    try:
        target = await destinations.pin(url, settings.http_allow_private)
    except destinations.Refused as exc:
        raise _unreachable(field, str(exc)) from None
    timeout = settings.media_fetch_timeout_seconds
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        got = await downloads.download(
            client, target.url, limit, httpx.URL(url).host, target.headers, target.extensions
        )
    if got.content is None:
        if got.error == downloads.too_big(limit).error:
            raise TooLarge("attachment_too_large", f"{field}: {got.error}", field)
        raise _unreachable(field, got.error or "no content")
    return _checked(got.content, file_name or _name_in(url), got.mime_type, field)


def _checked(content: bytes, file_name: str | None, declared: str | None, field: str) -> Checked:
    if not content:
        raise InvalidInput("empty_attachment", f"{field}: the file is empty", field)
    mime, lie = content_type(content, declared)
    if lie:
        raise InvalidInput("attachment_type_mismatch", f"{field}: {lie}", field)
    return Checked(content, mime, clean_name(file_name))


async def store(media: MediaStore, files: Sequence[Checked]) -> list[NewAttachment]:
    """The checked files put in the media store, as the attachments to write with their message."""
    return [await _stored(media, checked) for checked in files]


async def _stored(media: MediaStore, checked: Checked) -> NewAttachment:
    stored = await anyio.to_thread.run_sync(media.put, checked.content)  # fsyncs: off the event loop
    return stored_attachment(stored, checked.mime_type, checked.file_name)


def _name_in(url: str) -> str | None:
    return unquote(PurePosixPath(urlsplit(url).path).name) or None


def _unreachable(field: str, why: str) -> InvalidInput:
    return InvalidInput("attachment_unreachable", f"{field}: could not fetch it: {why}", field)


def allow_uploads(app: Litestar, settings: Settings) -> None:
    """Upload routes take bodies as large as their files may be (others keep FRONTDESK_MAX_BODY_BYTES);
    each file is then held to FRONTDESK_MEDIA_MAX_BYTES on its own."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            files = handler.opt.get("upload_files")
            if files:
                handler.request_max_body_size = files * settings.media_max_bytes + settings.max_body_bytes
