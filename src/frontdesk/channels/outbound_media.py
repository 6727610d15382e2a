"""What the messaging adapters share to send a message's attachments.

A channel states the kinds it sends and their size limits (`Capabilities.media`); a message that
exceeds them fails before anything is sent, with a reason, and is never retried. The bytes are read
from the media store the settings name, so adapters never touch the database. A message with
attachments goes out as several provider messages ("parts"); `send_parts` sends them in order and
never lets a retry send a part twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from frontdesk.channels.base import Capabilities, SendResult, Verdict
from frontdesk.domain.model import AttachmentState
from frontdesk.domain.records import Attachment, Outbound
from frontdesk.settings import Settings
from frontdesk.store.media import media_store

MB = 1024 * 1024
CAPTION_MAX = 1024  # characters, on WhatsApp and on Telegram
Part = TypeVar("Part")


def check(message: Outbound, capabilities: Capabilities, provider: str) -> SendResult | None:
    """None when the channel can carry the message's attachments now; else retry later (one is
    still being fetched) or fail for good (a kind it does not send, too big, a failed fetch)."""
    for attachment in message.attachments:
        name = attachment.file_name or f"attachment {attachment.id}"
        limit = capabilities.media.get(attachment.kind)
        if limit is None:
            return SendResult(Verdict.FAILED, f"{provider} cannot send a {attachment.kind} attachment")
        if attachment.state == AttachmentState.PENDING:
            return SendResult(Verdict.RETRY, f"{name} is still being fetched")
        if attachment.state != AttachmentState.READY or not (attachment.storage_key or attachment.source_url):
            return SendResult(Verdict.FAILED, f"{name} has no content to send: {attachment.error or attachment.state}")
        if attachment.size is not None and attachment.size > limit:
            size = _mb(attachment.size)
            return SendResult(
                Verdict.FAILED, f"{name} is {size}: {provider} takes {attachment.kind} attachments up to {_mb(limit)}"
            )
    return None


async def content(settings: Settings, attachment: Attachment) -> bytes | None:
    """The stored bytes of an attachment (None when the media store has lost them)."""
    if not attachment.storage_key:
        return None
    return await asyncio.to_thread(media_store(settings).get, attachment.storage_key)


def missing(attachment: Attachment) -> SendResult:
    return SendResult(Verdict.FAILED, f"the file of attachment {attachment.id} is missing from the media store")


def mime_of(attachment: Attachment) -> str:
    return (attachment.mime_type or "").split(";")[0].strip().lower()


async def send_parts(parts: Sequence[Part], post: Callable[[Part], Awaitable[SendResult]]) -> SendResult:
    """Post each part in order; the message keeps the last part's provider id (the one its
    contact sees last). A part refused after others went out fails the message for good:
    retrying it would send those again."""
    result = SendResult(Verdict.FAILED, "nothing to send")
    for sent, part in enumerate(parts):
        result = await post(part)
        if result.verdict is not Verdict.SENT:
            if sent == 0:
                return result
            return SendResult(Verdict.FAILED, f"{sent} of {len(parts)} parts were sent, then: {result.error}")
    return result


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"
