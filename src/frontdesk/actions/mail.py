"""An inbound e-mail stored: one path for the mail the SMTP receiver is handed and the mail the
IMAP poller reads, so threading, auto-replies and bounces behave the same whichever way it came.

A polled mail is stored in the transaction that moves its mailbox's cursor past it: committed, it
is never read again; not committed (a crash, a failure), the cursor has not moved and it is read
again. Its Message-ID keeps a second reading (after a UIDVALIDITY change) from storing it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import Connection

from frontdesk.actions.delivery import record_status
from frontdesk.actions.ingest import InboundMessage, receive_inbound, record_notice
from frontdesk.channels.base import Ignored, InboundItem, Item, Notice, StatusUpdate
from frontdesk.store.sql import mailboxes
from frontdesk.store.sql.mailboxes import MailboxCursor

log = logging.getLogger(__name__)


class CursorMoved(Exception):
    """Another poller moved the mailbox's cursor first: this transaction stores nothing."""


def take_mail(conn: Connection, channel_ids: Sequence[int], item: Item) -> None:
    """A parsed mail (its files already in the media store) on each channel it reached."""
    for channel_id in channel_ids:
        _take(conn, channel_id, item)


def take_polled_mail(
    conn: Connection, channel_id: int, item: Item, read: MailboxCursor | None, moved: MailboxCursor
) -> None:
    """A mail read from the channel's mailbox, and its cursor moved past it, together."""
    move_cursor(conn, channel_id, read, moved)
    _take(conn, channel_id, item)


def move_cursor(conn: Connection, channel_id: int, read: MailboxCursor | None, moved: MailboxCursor) -> None:
    """The cursor from where the poller read it (None: it had none) to `moved`; CursorMoved if it
    stands elsewhere now."""
    if read is None:
        mailboxes.insert_cursor(conn, channel_id, moved)
    elif not mailboxes.move_cursor(conn, channel_id, read, moved):
        raise CursorMoved(f"the mailbox cursor of channel {channel_id} moved")


def _take(conn: Connection, channel_id: int, item: Item) -> None:
    if isinstance(item, InboundItem):
        receive_inbound(conn, InboundMessage.of(channel_id, item))
    elif isinstance(item, Notice):
        if record_notice(conn, channel_id, item) is None:
            log.info("email auto-reply not noted", extra={"channel_id": channel_id, "from": item.external_id})
    elif isinstance(item, StatusUpdate):
        if not record_status(conn, channel_id, item):
            log.info("email report not applied", extra={"channel_id": channel_id, "id": item.provider_message_id})
    elif isinstance(item, Ignored):
        log.info("email skipped", extra={"channel_id": channel_id, "reason": item.reason})
