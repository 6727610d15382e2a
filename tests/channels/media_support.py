"""Media in channel tests: what the media fetcher did, read back the same way for every provider;
and outbound files put in the app's media store and sent as an agent's reply through
`send_message`, the action the inbox and the API reply through."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from frontdesk.actions.conversations import send_message
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import Actor, AttachmentKind, AttachmentState, AuthorKind
from frontdesk.domain.partitions import PARTITIONS
from frontdesk.domain.records import Attachment
from frontdesk.store.database import Database
from frontdesk.store.sql import events
from frontdesk.store.tables import attachments
from tests.factories import eventually

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4  # a PNG's signature and some body
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
LIMIT = 64 * 1024  # media_max_bytes in these tests
TOO_BIG = PNG + bytes(LIMIT)
OGG = b"OggS" + b"\x00" * 64
MB = 1024 * 1024


def all_attachments(db: Database) -> list[Attachment]:
    def read(conn: Connection) -> list[Attachment]:
        return [Attachment(**row) for row in conn.execute(select(attachments).order_by(attachments.c.id)).mappings()]

    return db.read_sync(read)


def settled(db: Database, count: int = 1) -> list[Attachment]:
    """The attachments, once `count` of them are no longer pending."""

    def probe() -> list[Attachment] | None:
        found = all_attachments(db)
        return found if sum(a.state != "pending" for a in found) >= count else None

    return eventually(probe, f"{count} attachment(s) fetched or failed")


def on_disk(media_dir: Path, content: bytes) -> Path:
    """Where the media store keeps `content`: under its SHA-256."""
    digest = hashlib.sha256(content).hexdigest()
    return media_dir / digest[:2] / digest[2:4] / digest


def updates(db: Database) -> list[dict[str, object]]:
    """The payloads of every attachment.updated event, in order."""
    found = [e for _, e in db.read_sync(lambda c: events.after(c, 0, range(PARTITIONS), 1000))]
    return [dict(e.payload) for e in found if e.type == "attachment.updated"]


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
