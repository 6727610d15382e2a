"""Attachments' writes: stored with their message (ingest, replies), and — when the media
fetcher has their content or gives up — marked ready or failed, with an event the inbox follows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence

import msgspec
from sqlalchemy import Connection

from frontdesk.actions.events import emit
from frontdesk.channels.base import MediaFetch
from frontdesk.domain import events as ev
from frontdesk.domain.attachments import NewAttachment
from frontdesk.domain.model import AttachmentState
from frontdesk.domain.records import Attachment, Channel
from frontdesk.store.database import wake
from frontdesk.store.media import Stored
from frontdesk.store.sql import attachments


def store_attachments(
    conn: Connection, message_id: int, new: Sequence[NewAttachment], at: dt.datetime
) -> list[ev.AttachmentRef]:
    """Store a message's attachments (in its transaction) and wake the media fetcher for any to fetch."""
    ids = attachments.add(conn, message_id, new, at)
    if any(a.state == AttachmentState.PENDING for a in new):
        wake(conn, "media")
    return [{"id": attachment_id, "kind": str(a.kind)} for attachment_id, a in zip(ids, new, strict=True)]


def claim_due(
    conn: Connection,
    at: dt.datetime,
    lease_seconds: float,
    limit: int,
    skip: Collection[int],
    take: Callable[[int], bool],
) -> list[tuple[Attachment, Channel]]:
    """Lease the due attachments that `take` makes room for, oldest first, each attempt counted
    before it is made: a fetch cut short (a crash, a kill) is claimed again when its lease ends."""
    claimed = [(a, c) for a, c in attachments.due(conn, at, skip, limit) if take(c.id)]
    lease_end = at + dt.timedelta(seconds=lease_seconds)
    for attachment, _ in claimed:
        attachments.lease(conn, attachment.id, lease_end, attachment.attempts + 1)
    return [(msgspec.structs.replace(a, attempts=a.attempts + 1), c) for a, c in claimed]


def attachment_fetched(conn: Connection, attachment: Attachment, stored: Stored, mime_type: str) -> None:
    """The content is in the media store: the attachment is ready (once, whoever lands first)."""
    if attachments.mark_ready(conn, attachment.id, stored, mime_type):
        _updated(conn, attachment, AttachmentState.READY, None)


def attachment_not_fetched(
    conn: Connection, attachment: Attachment, fetch: MediaFetch, at: dt.datetime, max_attempts: int, backoff: float
) -> None:
    """Failed for good (the reason is permanent, or the attempts ran out: the last reason is kept),
    or tried again after an exponential backoff — never sooner than the provider's Retry-After."""
    error = fetch.error or "the content could not be fetched"
    if fetch.retry and attachment.attempts < max_attempts:
        delay = max(backoff * 2 ** (attachment.attempts - 1), fetch.retry_after or 0.0)
        attachments.retry_at(conn, attachment.id, at + dt.timedelta(seconds=delay), error)
        return
    if fetch.retry:
        error = f"{error} (gave up after {attachment.attempts} attempts)"
    if attachments.mark_failed(conn, attachment.id, error):
        _updated(conn, attachment, AttachmentState.FAILED, error)


def _updated(conn: Connection, attachment: Attachment, state: AttachmentState, error: str | None) -> None:
    thread = attachments.thread_of(conn, attachment.id)
    conversation_id, contact_id = thread if thread is not None else (None, None)
    payload: ev.AttachmentUpdatedPayload = {
        "attachment_id": attachment.id,
        "message_id": attachment.message_id,
        "state": str(state),
        "error": error,
    }
    emit(conn, ev.ATTACHMENT_UPDATED, payload, contact_id=contact_id, conversation_id=conversation_id)
