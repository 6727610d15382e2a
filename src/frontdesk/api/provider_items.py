"""What a provider's webhook does with each item its adapter read (WhatsApp, Telegram, Twilio,
Messenger, Instagram): store it through the one ingest path, or skip it with a log line. Never an
error: a provider retries an error, then disables the webhook, and one bad item must not hold
back the rest of a delivery.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import Connection

from frontdesk.actions.delivery import record_status
from frontdesk.actions.ingest import InboundMessage, receive_inbound, record_notice
from frontdesk.channels.base import Ignored, InboundItem, Item, Notice, StatusUpdate
from frontdesk.domain.errors import DomainError
from frontdesk.store.database import Database

log = logging.getLogger(__name__)
Stored = InboundItem | StatusUpdate | Notice
Write = Callable[[Connection], object]  # its result's truth: whether the item counts


async def take(
    db: Database, provider: str, channel_id: int, item: Item, write: Callable[[int, Stored], Write] | None = None
) -> bool:
    """Store one item (`write`: what it writes, the usual by default); True when it counts: a new
    message (not a retry's) or a receipt that changed a message. A refused item is logged and
    skipped."""
    extra = {"provider": provider, "channel_id": channel_id, "provider_message_id": item.provider_message_id}
    if isinstance(item, Ignored):
        log.info("provider item skipped", extra={**extra, "reason": item.reason})
        return False
    try:
        parallel = write is None and isinstance(item, InboundItem)  # ingest's own (`receive_inbound`)
        return bool(await db.write((write or usual_write)(channel_id, item), parallel=parallel))
    except DomainError as exc:
        log.warning("provider item skipped", extra={**extra, "reason": exc.message})
        return False


def usual_write(channel_id: int, item: Stored) -> Write:
    """A receipt on our message; a note in the open conversation (a reaction opens none; never
    counted); or a new message."""
    if isinstance(item, StatusUpdate):
        return lambda c: record_status(c, channel_id, item)
    if isinstance(item, Notice):
        notice = item

        def note(conn: Connection) -> bool:
            if record_notice(conn, channel_id, notice) is None:
                extra = {"channel_id": channel_id, "provider_message_id": notice.provider_message_id}
                log.info("provider notice not noted: no open conversation, or a retry", extra=extra)
            return False

        return note
    return lambda c: not receive_inbound(c, InboundMessage.of(channel_id, item)).duplicate
