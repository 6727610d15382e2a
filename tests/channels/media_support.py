"""Outbound media in channel tests: files put in the app's media store and sent as an agent's
reply through `send_message`, the action the inbox and the API reply through."""

from __future__ import annotations

from typing import Any

from frontdesk.actions.conversations import send_message
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import Actor, AttachmentKind, AttachmentState, AuthorKind
from frontdesk.store.database import Database

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
OGG = b"OggS" + b"\x00" * 64
MB = 1024 * 1024


def stored(app: Any, kind: AttachmentKind, mime: str, name: str, content: bytes) -> NewAttachment:
    """A READY attachment whose bytes are in the app's media store (as an agent's upload is)."""
    saved = app.state.media.put(content)
    return NewAttachment(kind, AttachmentState.READY, mime, saved.size, name, saved.sha256, saved.key)


def link(kind: AttachmentKind, url: str, name: str | None = None) -> NewAttachment:
    """A READY attachment that is a link, sent as is."""
    return NewAttachment(kind, AttachmentState.READY, file_name=name, source_url=url)


def reply(
    app: Any, conversation_id: int, text: str, attachments: list[NewAttachment], quick_replies: list[str] | None = None
) -> int:
    db: Database = app.state.db
    actor = Actor(AuthorKind.API)
    return db.write_sync(lambda c: send_message(c, conversation_id, actor, text, quick_replies, attachments))
