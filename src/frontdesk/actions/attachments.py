"""Attachments' writes: stored with their message (ingest, replies), and — when the media
fetcher has their content or gives up — marked ready or failed, with an event the inbox follows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection

from frontdesk.domain import events as ev
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import AttachmentState
from frontdesk.store.database import wake
from frontdesk.store.sql import attachments


def store_attachments(
    conn: Connection, message_id: int, new: Sequence[NewAttachment], at: dt.datetime
) -> list[ev.AttachmentRef]:
    """Store a message's attachments (in its transaction) and wake the media fetcher for any to fetch."""
    ids = attachments.add(conn, message_id, new, at)
    if any(a.state == AttachmentState.PENDING for a in new):
        wake(conn, "media")
    return [{"id": attachment_id, "kind": str(a.kind)} for attachment_id, a in zip(ids, new, strict=True)]
