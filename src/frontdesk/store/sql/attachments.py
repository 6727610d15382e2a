"""Attachments: stored with their message, read with the thread, and the media fetcher's queue.

A claim leases a pending attachment (its `next_attempt_at` pushed past the fetch's timeout, its
attempt counted) in the writer before it is fetched; the outcome is written only while it is
still pending, so a fetch whose lease ran out and was claimed again lands once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import Connection, and_, func, select, update

from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import AttachmentState
from frontdesk.domain.records import Attachment, Channel
from frontdesk.store import rows
from frontdesk.store.media import Stored
from frontdesk.store.tables import attachments, channels, messages

_THREAD_OF = (
    "SELECT m.conversation_id, c.contact_id FROM attachments a JOIN messages m ON m.id = a.message_id"
    " JOIN conversations c ON c.id = m.conversation_id WHERE a.id = ?"
)
_CONVERSATION_OF = (
    "SELECT m.conversation_id, m.private FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.id = ?"
)


def add(conn: Connection, message_id: int, new: Sequence[NewAttachment], at: dt.datetime) -> list[int]:
    """Store a message's attachments, in order; a pending one is due at once."""
    ids = []
    for attachment in new:
        values = rows.fields_of(attachment)
        values.update(message_id=message_id, attempts=0, created_at=at)
        values["next_attempt_at"] = at if attachment.state == "pending" else None
        ids.append(rows.insert(conn, attachments, values))
    return ids


def get(conn: Connection, attachment_id: int) -> Attachment | None:
    row = rows.by_id(conn, attachments, attachment_id)
    return None if row is None else Attachment(**row)


def of_messages(conn: Connection, message_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    """Each message's attachments in the order they were added (messages without any are absent)."""
    found: dict[int, list[Attachment]] = {}
    if not message_ids:
        return found
    marks = ", ".join("?" * len(message_ids))
    for row in rows.select_all(conn, attachments, f"message_id IN ({marks}) ORDER BY id", tuple(message_ids)):
        found.setdefault(row["message_id"], []).append(Attachment(**row))
    return found


def conversation_of(conn: Connection, attachment_id: int) -> tuple[int, bool] | None:
    """The conversation whose message carries the attachment, and whether that message is a private note."""
    row = rows.execute(conn, _CONVERSATION_OF, (attachment_id,)).fetchone()
    return None if row is None else (int(row[0]), bool(rows.dialect(conn).decode_bool(row[1])))


def thread_of(conn: Connection, attachment_id: int) -> tuple[int, int] | None:
    """The conversation whose message carries the attachment, and its contact (for the event)."""
    row = rows.execute(conn, _THREAD_OF, (attachment_id,)).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


# -- the media fetcher's queue ---------------------------------------------------------------
_DUE = select(
    *attachments.c,
    *(column.label(f"channel__{column.name}") for column in channels.c),
)


def due(conn: Connection, at: dt.datetime, skip: Collection[int], limit: int) -> list[tuple[Attachment, Channel]]:
    """The pending attachments due at `at`, oldest first, outside the channels in `skip`; each with
    the channel its message came on (whose adapter fetches it)."""
    query = (
        _DUE.join(messages, messages.c.id == attachments.c.message_id)
        .join(channels, channels.c.id == messages.c.channel_id)
        .where(
            attachments.c.state == AttachmentState.PENDING,
            attachments.c.next_attempt_at <= at,
            channels.c.id.not_in(skip),
        )
        .order_by(attachments.c.next_attempt_at, attachments.c.id)
        .limit(limit)
    )
    return [_due(row) for row in conn.execute(query).mappings()]


def _due(row: Any) -> tuple[Attachment, Channel]:
    attachment = Attachment(**{column.name: row[column.name] for column in attachments.c})
    channel = Channel(**{column.name: row[f"channel__{column.name}"] for column in channels.c})
    return attachment, channel


def lease(conn: Connection, attachment_id: int, until: dt.datetime, attempts: int) -> None:
    """Count the attempt and keep other claims off the attachment until `until`."""
    values = {"next_attempt_at": until, "attempts": attempts}
    conn.execute(update(attachments).where(attachments.c.id == attachment_id).values(**values))


def mark_ready(conn: Connection, attachment_id: int, stored: Stored, mime_type: str) -> bool:
    """The content is stored: False when the attachment was no longer pending."""
    values = {
        "state": AttachmentState.READY,
        "storage_key": stored.key,
        "sha256": stored.sha256,
        "size": stored.size,
        "mime_type": mime_type,
        "error": None,
        "next_attempt_at": None,
    }
    return _settle(conn, attachment_id, values)


def mark_failed(conn: Connection, attachment_id: int, error: str) -> bool:
    """For good: never fetched again. False when the attachment was no longer pending."""
    return _settle(conn, attachment_id, {"state": AttachmentState.FAILED, "error": error, "next_attempt_at": None})


def retry_at(conn: Connection, attachment_id: int, at: dt.datetime, error: str) -> None:
    _settle(conn, attachment_id, {"next_attempt_at": at, "error": error})


def next_attempt(conn: Connection, skip: Collection[int]) -> dt.datetime | None:
    """When the next pending attachment falls due, outside the channels in `skip` (only those `due`
    can claim: one on a message without a channel would otherwise keep the loop spinning)."""
    query = (
        select(func.min(attachments.c.next_attempt_at))
        .join(messages, messages.c.id == attachments.c.message_id)
        .join(channels, channels.c.id == messages.c.channel_id)
        .where(attachments.c.state == AttachmentState.PENDING, channels.c.id.not_in(skip))
    )
    found: dt.datetime | None = conn.execute(query).scalar()
    return found


def _settle(conn: Connection, attachment_id: int, values: dict[str, Any]) -> bool:
    pending = and_(attachments.c.id == attachment_id, attachments.c.state == AttachmentState.PENDING)
    return bool(conn.execute(update(attachments).where(pending).values(**values)).rowcount)
