"""Ingest stores a message's attachments with it, in one transaction, and names them in its event."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection

from frontdesk.actions.channels import create_channel
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import AttachmentKind, AttachmentState, ChannelType
from frontdesk.domain.partitions import PARTITIONS
from frontdesk.store.database import Database
from frontdesk.store.sql import attachments, events

PHOTO = NewAttachment(AttachmentKind.IMAGE, provider_media_id="media-1", mime_type="image/jpeg")
PLACE = NewAttachment(
    AttachmentKind.LOCATION, AttachmentState.READY, data={"latitude": 48.85, "longitude": 2.35, "name": "Paris"}
)


def _channel(db: Database) -> int:
    return db.write_sync(lambda c: create_channel(c, ChannelType.API, "api", {}))[0]


def _receive(db: Database, inbound: InboundMessage) -> int:
    return db.write_sync(lambda c: receive_inbound(c, inbound)).message_id


def test_a_photo_without_caption_is_stored_with_its_attachment_to_fetch(db: Database) -> None:
    channel_id = _channel(db)
    message_id = _receive(db, InboundMessage(channel_id, "+33600000001", "wamid.1", "", attachments=(PHOTO, PLACE)))

    found = db.read_sync(lambda c: attachments.of_messages(c, [message_id]))[message_id]
    assert [(a.kind, a.state, a.provider_media_id) for a in found] == [
        ("image", "pending", "media-1"),
        ("location", "ready", None),
    ]
    assert found[0].next_attempt_at is not None and found[1].next_attempt_at is None
    assert found[1].data == {"latitude": 48.85, "longitude": 2.35, "name": "Paris"}

    def received(conn: Connection) -> dict[str, object]:
        return next(e.payload for _, e in events.after(conn, 0, range(PARTITIONS), 100) if e.type == "message.received")

    assert db.read_sync(received)["attachments"] == [
        {"id": found[0].id, "kind": "image"},
        {"id": found[1].id, "kind": "location"},
    ]


def test_a_message_with_neither_text_nor_attachment_is_refused(db: Database) -> None:
    channel_id = _channel(db)
    with pytest.raises(InvalidInput, match=r"message\.text must not be empty"):
        _receive(db, InboundMessage(channel_id, "+33600000001", "wamid.2", "  "))


def test_a_provider_retry_stores_the_attachment_once(db: Database) -> None:
    channel_id = _channel(db)
    inbound = InboundMessage(channel_id, "+33600000001", "wamid.3", "look", attachments=(PHOTO,))
    first, again = _receive(db, inbound), _receive(db, inbound)
    assert first == again
    assert len(db.read_sync(lambda c: attachments.of_messages(c, [first]))[first]) == 1
