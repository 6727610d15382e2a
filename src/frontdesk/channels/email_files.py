"""An inbound mail's files put in the media store before the mail is stored, whichever way it came
(the SMTP receiver, the IMAP poller): ingest then writes them with the message, nothing to fetch."""

from __future__ import annotations

import asyncio
import dataclasses

from frontdesk.channels.base import InboundItem, Item
from frontdesk.channels.email_inbound import Mail, MimeFile
from frontdesk.domain.attachments import NewAttachment, content_type
from frontdesk.store.media import MediaStore, stored_attachment


async def with_files(media: MediaStore, mail: Mail) -> Item:
    """The mail's item, its files stored (on a worker thread: they may be megabytes)."""
    item = mail.item
    if not isinstance(item, InboundItem) or not mail.files:
        return item
    stored = await asyncio.to_thread(_store, media, mail.files)
    return dataclasses.replace(item, attachments=stored)


def _store(media: MediaStore, files: tuple[MimeFile, ...]) -> tuple[NewAttachment, ...]:
    """Each file typed by what its bytes show (markup is never shown inline)."""
    stored = []
    for file in files:
        mime_type, _ = content_type(file.content, file.mime_type)
        stored.append(stored_attachment(media.put(file.content), mime_type, file.file_name))
    return tuple(stored)
