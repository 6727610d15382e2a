"""Attachments as people read them: on each message of a page (one query for the page), and their
content, served only to whoever may see the message that carries it.

Agents reach `/api/v1/attachments/{id}/content` with an API token or their inbox session (the
inbox's <img> and <a> use it); web-chat visitors reach their own through /webchat/ with their
visitor token. Every answer is hardened the same way (`content_response`): the sniffed type,
`nosniff`, a sandboxing CSP, and `inline` only for the types `shows_inline` allows, so an uploaded
HTML or SVG file is a download that never runs in our origin.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from litestar import Request, get
from litestar.openapi import ResponseSpec
from litestar.response import File
from sqlalchemy import Connection

from frontdesk.api.auth import Principal
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import PathId
from frontdesk.domain.attachments import shows_inline
from frontdesk.domain.errors import Conflict, NotFound
from frontdesk.domain.model import AttachmentState
from frontdesk.domain.records import Attachment
from frontdesk.store import visibility
from frontdesk.store.media import MediaStore
from frontdesk.store.sql import attachments

CONTENT_PATH = "/api/v1/attachments/{attachment_id:int}/content"
# Every media answer: never sniffed into something else, never able to run script or load anything.
HARDENING = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox; default-src 'none'",
    "Cache-Control": "private",
}
_UNSAFE_IN_QUOTES = re.compile(r'[^\x20-\x7e]|["\\%]')


# -- on the messages -------------------------------------------------------------------------
def agent_url(attachment_id: int) -> str:
    return f"/api/v1/attachments/{attachment_id}/content"


def shown(attachment: Attachment, url: Callable[[int], str]) -> dict[str, Any]:
    """An attachment as the API, the inbox and the widget show it (api.responses.Attachment)."""
    has_content = attachment.storage_key is not None or attachment.state != AttachmentState.READY
    return {
        "id": attachment.id,
        "kind": attachment.kind,
        "state": attachment.state,
        "mime_type": attachment.mime_type,
        "size": attachment.size,
        "file_name": attachment.file_name,
        "data": attachment.data,
        "error": attachment.error,
        "url": url(attachment.id) if has_content else None,
    }


def with_attachments(
    conn: Connection, messages: list[dict[str, Any]], url: Callable[[int], str] = agent_url
) -> list[dict[str, Any]]:
    """Each message with its `attachments` (an empty list for most), in one query for the page."""
    found = attachments.of_messages(conn, [m["id"] for m in messages])
    for message in messages:
        message["attachments"] = [shown(a, url) for a in found.get(message["id"], [])]
    return messages


# -- the content -----------------------------------------------------------------------------
def seen_attachment(conn: Connection, viewer: Principal, attachment_id: int) -> Attachment:
    """The attachment, if the viewer may see the conversation of its message (a note's too: notes
    are for every agent of the conversation); 404 otherwise, as one that does not exist."""
    found = attachments.conversation_of(conn, attachment_id)
    attachment = attachments.get(conn, attachment_id) if found else None
    if found is None or attachment is None or not visibility.seen_among(conn, viewer, [found[0]]):
        raise NotFound("attachment", attachment_id)
    return attachment


def content_response(media: MediaStore, attachment: Attachment) -> File:
    """The stored content, streamed from the media store; 409 while it is not there (pending,
    failed, or an attachment without content such as a location)."""
    if attachment.state == AttachmentState.PENDING:
        raise Conflict(
            "attachment_pending",
            f"attachment {attachment.id} is still being fetched: ask again once its state is ready",
        )
    if attachment.state == AttachmentState.FAILED:
        raise Conflict("attachment_failed", f"attachment {attachment.id} could not be fetched: {attachment.error}")
    path = media.path(attachment.storage_key) if attachment.storage_key else None
    if path is None:
        raise Conflict(
            "attachment_without_content", f"attachment {attachment.id} ({attachment.kind}) has no content to serve"
        )
    mime = attachment.mime_type or "application/octet-stream"
    headers = {**HARDENING, "Content-Disposition": disposition(mime, attachment.file_name, attachment.id)}
    return File(path=path, media_type=mime, headers=headers)


def disposition(mime: str, file_name: str | None, attachment_id: int) -> str:
    """`inline` only for the types a page may show; anything else is a download. The name as
    RFC 6266 wants it: an ASCII fallback in quotes, and the real name in `filename*` (RFC 5987)."""
    kind = "inline" if shows_inline(mime) else "attachment"
    name = file_name or f"attachment-{attachment_id}"
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = _UNSAFE_IN_QUOTES.sub("_", ascii_name) or f"attachment-{attachment_id}"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@get(
    CONTENT_PATH,
    tags=["attachments"],
    opt={"auth": "token_or_session"},
    responses={
        200: ResponseSpec(
            bytes,
            media_type="*/*",
            generate_examples=False,
            description="The content, with the type it was detected as. Served as a download "
            "(Content-Disposition: attachment) unless it is an image, audio or video type a page may "
            "show inline; always with X-Content-Type-Options: nosniff and a sandboxing "
            "Content-Security-Policy.",
        )
    },
)
async def attachment_content(request: Request[Any, Any, Any], db: Db, principal: Caller, attachment_id: PathId) -> File:
    """The content of an attachment of a conversation the caller may see (404 otherwise), by API
    token or inbox session. 409 while it is pending (still being fetched) or when it failed (the
    detail says why), and for a location or contact card, which have no content."""
    attachment = await db.read(lambda c: seen_attachment(c, principal, attachment_id))
    media: MediaStore = request.app.state.media
    return content_response(media, attachment)
