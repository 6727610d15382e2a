"""Attachments: stored with their message, read with the thread, and the media fetcher's queue."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from sqlalchemy import Connection

from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.records import Attachment
from frontdesk.store import rows
from frontdesk.store.tables import attachments

_CONVERSATION_OF = (
    "SELECT m.conversation_id, m.private FROM attachments a JOIN messages m ON m.id = a.message_id WHERE a.id = ?"
)


def add(conn: Connection, message_id: int, new: Sequence[NewAttachment], at: dt.datetime) -> list[int]:
    """Store a message's attachments, in order; a pending one is due at once."""
    ids = []
    for attachment in new:
        values = dataclasses.asdict(attachment)
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
