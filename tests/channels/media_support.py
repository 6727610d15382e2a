"""Reading back what the media fetcher did, the same way for every provider's tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import Connection, select

from frontdesk.domain.records import Attachment
from frontdesk.store.database import Database
from frontdesk.store.sql import events
from frontdesk.store.tables import attachments
from tests.factories import eventually

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4  # a PNG's signature and some body
HTML = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
LIMIT = 64 * 1024  # media_max_bytes in these tests
TOO_BIG = PNG + bytes(LIMIT)


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
    found = db.read_sync(lambda c: events.after(c, 0, 1000))
    return [dict(e.payload) for e in found if e.type == "attachment.updated"]
