"""Mailbox cursors: where an e-mail channel's IMAP poller stands in its mailbox.

A cursor moves only from the position its writer read (compare and set), so two pollers of one
mailbox (two worker processes) never both store a mail: the second one's transaction changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

from sqlalchemy import Connection, insert, select, update

from frontdesk.store.tables import mailbox_cursors


class MailboxCursor(NamedTuple):
    uidvalidity: int
    last_uid: int
    read_at: dt.datetime


def cursor(conn: Connection, channel_id: int) -> MailboxCursor | None:
    query = select(mailbox_cursors.c.uidvalidity, mailbox_cursors.c.last_uid, mailbox_cursors.c.read_at)
    row = conn.execute(query.where(mailbox_cursors.c.channel_id == channel_id)).first()
    return None if row is None else MailboxCursor(*row)


def insert_cursor(conn: Connection, channel_id: int, moved: MailboxCursor) -> None:
    """The first position of a channel's cursor (a twin written meanwhile fails the transaction)."""
    conn.execute(insert(mailbox_cursors).values(channel_id=channel_id, **moved._asdict()))


def move_cursor(conn: Connection, channel_id: int, read: MailboxCursor, moved: MailboxCursor) -> bool:
    """Move the cursor from `read` to `moved`; False when it no longer stands at `read`."""
    at_read = (
        (mailbox_cursors.c.channel_id == channel_id)
        & (mailbox_cursors.c.uidvalidity == read.uidvalidity)
        & (mailbox_cursors.c.last_uid == read.last_uid)
    )
    return conn.execute(update(mailbox_cursors).where(at_read).values(**moved._asdict())).rowcount == 1
