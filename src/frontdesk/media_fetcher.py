"""Fetches inbound attachments' content from their provider, after their message is stored.

A message with a photo is stored and shown at once; its attachment waits `pending`. This loop,
woken on commit (topic "media") like delivery, claims what is due (actions.attachments: leased and
its attempt counted before the fetch, so a crash never loses one and two processes never fetch one
at the same time), fetches each through its channel's adapter on its own task, outside any
transaction, with the size limit, checks the bytes against the declared type, stores them in the
media store, and marks the attachment ready, failed (with the reason) or due again after a backoff.
"""

from __future__ import annotations

import asyncio
import logging

import httpx

from frontdesk.actions.attachments import attachment_fetched, attachment_not_fetched, claim_due
from frontdesk.channels import ADAPTERS
from frontdesk.channels.base import MediaFetch
from frontdesk.channels.media import fetch_source_url
from frontdesk.clock import now
from frontdesk.domain.attachments import content_type
from frontdesk.domain.records import Attachment, Channel
from frontdesk.inflight import Budget, InFlight
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.media import media_store
from frontdesk.store.sql.attachments import next_attempt
from frontdesk.store.wakeup import IDLE_SECONDS, WakeLoop, Wakeup, until

log = logging.getLogger(__name__)
IN_FLIGHT = 16  # downloads at once, over all channels (each may hold up to media_max_bytes in memory)
PER_CHANNEL = 4  # of which for one channel: a slow provider cannot take every slot


class MediaFetcher:
    """One per process, beside the delivery worker: wakes when the writer commits a pending
    attachment or a fetch lands, else polls each second."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.media = media_store(settings)
        wakeup = Wakeup(db, "media")
        self._fetches = InFlight("media", IN_FLIGHT, PER_CHANNEL, wakeup)
        self._loop = WakeLoop("media", wakeup, self._claim)
        self._client = httpx.AsyncClient(timeout=settings.media_fetch_timeout_seconds, follow_redirects=False)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self._fetches.cancel()
        await self._client.aclose()

    async def _claim(self) -> float:
        """Launch what is due and fits, then sleep until more could: a commit, a landing, a due time."""
        budget = self._fetches.budget()
        if budget.free > 0:
            lease, limit, skip = self._deadline() * 1.5, budget.free, _channels(budget)
            claimed = await self.db.write(lambda c: claim_due(c, now(), lease, limit, skip, budget.take))
            for attachment, channel in claimed:
                self._fetches.launch(channel.id, self.fetch(attachment, channel))
        if budget.free <= 0:
            return IDLE_SECONDS
        skip = _channels(budget)
        due = await self.db.read(lambda c: next_attempt(c, skip))
        return until(None if due is None else (due - now()).total_seconds())

    async def fetch(self, attachment: Attachment, channel: Channel) -> None:
        """Fetch one claimed attachment and record how it ended."""
        try:
            fetched = await self._download(attachment, channel)
            if fetched.content is not None:
                mime_type, refusal = content_type(fetched.content, fetched.mime_type)
                if refusal is None:
                    stored = await asyncio.to_thread(self.media.put, fetched.content)
                    await self.db.write(lambda c: attachment_fetched(c, attachment, stored, mime_type))
                    return
                fetched = MediaFetch(error=refusal)
        except Exception as exc:  # a broken adapter or a full disk: retried, then failed, never claimed for ever
            log.exception("attachment fetch broke", extra={"attachment_id": attachment.id})
            fetched = MediaFetch(error=f"{type(exc).__name__} while fetching", retry=True)
        log.warning(
            "attachment not fetched",
            extra={"attachment_id": attachment.id, "attempt": attachment.attempts, "error": fetched.error},
        )
        max_attempts, backoff = self.settings.media_fetch_max_attempts, self.settings.media_fetch_backoff_seconds
        await self.db.write(lambda c: attachment_not_fetched(c, attachment, fetched, now(), max_attempts, backoff))

    async def _download(self, attachment: Attachment, channel: Channel) -> MediaFetch:
        """The provider's media through its adapter, or a URL through the private-address guard
        (whatever the channel: an outbound link fetched to be uploaded), ended before its lease
        does (so no other claim can start meanwhile)."""
        limit, settings = self.settings.media_max_bytes, self.settings
        try:
            async with asyncio.timeout(self._deadline()):
                if attachment.source_url and not attachment.provider_media_id:
                    return await fetch_source_url(self._client, attachment, settings, limit)
                return await ADAPTERS[channel.type].fetch_media(self._client, channel, attachment, settings, limit)
        except TimeoutError:
            return MediaFetch(error=f"the fetch took longer than {self._deadline():g} s", retry=True)

    def _deadline(self) -> float:
        return self.settings.media_fetch_timeout_seconds * 2


def _channels(budget: Budget) -> set[int]:
    """The channels at their bound (the budget's keys are channel ids)."""
    return {key for key in budget.full() if isinstance(key, int)}
