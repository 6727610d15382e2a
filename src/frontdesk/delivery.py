"""Delivers outbound messages to their channel, with retries and a recorded status.

A loop woken on commit (store.wakeup) claims what is due (actions.delivery: each message leased
and its attempt counted before it is sent, so it is never in flight twice; receivers get a
stable delivery id to drop the duplicate a lost acknowledgement could cause), sends each through
its channel's adapter (frontdesk.channels) on its own task (frontdesk.inflight), at most a few
at once per channel so a slow receiver delays only its own channel, and records the adapter's
verdict.
"""

from __future__ import annotations

import logging

import httpx
from sqlalchemy import Connection

from frontdesk.actions.channels import record_sign_in
from frontdesk.actions.delivery import claim_due, record_attempt
from frontdesk.channels import ADAPTERS, ChannelAdapter
from frontdesk.channels.base import SendResult, Verdict
from frontdesk.clock import now
from frontdesk.domain.plugins import Registry
from frontdesk.domain.records import Channel, Outbound
from frontdesk.inflight import Budget, InFlight
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql.delivery import next_attempt
from frontdesk.store.wakeup import IDLE_SECONDS, WakeLoop, Wakeup, until

log = logging.getLogger(__name__)
IN_FLIGHT = 64  # messages being sent at once, over all channels
PER_CHANNEL = 8  # of which for one channel (one callback_url): a slow one cannot take every slot


class DeliveryWorker:
    """One per process: wakes when the writer commits a pending message or a send lands, else
    polls each second."""

    def __init__(self, db: Database, settings: Settings, adapters: Registry[ChannelAdapter] = ADAPTERS) -> None:
        self.db = db
        self.settings = settings
        self.adapters = adapters
        wakeup = Wakeup(db, "delivery")
        self._sends = InFlight("delivery", IN_FLIGHT, PER_CHANNEL, wakeup)
        self._loop = WakeLoop("delivery", wakeup, self._claim)
        self._client = httpx.AsyncClient(timeout=settings.delivery_timeout_seconds, follow_redirects=False)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self._sends.cancel()
        await self._client.aclose()

    async def _claim(self) -> float:
        """Launch what is due and fits, then sleep until more could: a commit, a landing, a due time."""
        budget = self._sends.budget()
        if budget.free > 0:
            lease, limit, skip = self.settings.delivery_timeout_seconds * 3, budget.free, _channels(budget)
            claimed = await self.db.write(lambda c: claim_due(c, now(), lease, limit, skip, budget.take))
            for message, channel in claimed:
                self._sends.launch(message.channel_id, self._deliver(message, channel))
        if budget.free <= 0:  # every slot taken: the next landing wakes this loop
            return IDLE_SECONDS
        skip = _channels(budget)
        due = await self.db.read(lambda c: next_attempt(c, skip))
        return until(None if due is None else (due - now()).total_seconds())

    async def _deliver(self, message: Outbound, channel: Channel) -> None:
        result = await self._send(message, channel)
        if result.error:
            log.warning(
                "delivery failed",
                extra={"message_id": message.id, "attempt": message.attempt, "error": result.error},
            )
        max_attempts, backoff = self.settings.delivery_max_attempts, self.settings.delivery_backoff_seconds

        def record(conn: Connection) -> None:
            record_attempt(conn, message, result, now(), max_attempts, backoff)
            if result.sign_in is not None and result.sign_in.changes(channel.config):  # a rotated token, a refusal
                record_sign_in(conn, message.channel_id, result.sign_in)

        await self.db.write(record)

    async def _send(self, message: Outbound, channel: Channel) -> SendResult:
        """The adapter's verdict; an adapter that raises (a bug, a provider answer it did not
        foresee) is a failed attempt like any other, retried until the attempts run out, instead of
        a message leased again and again for ever."""
        try:
            return await self.adapters[channel.type].send(self._client, channel, message, self.settings)
        except Exception as exc:
            log.exception("channel adapter raised", extra={"message_id": message.id, "channel": channel.type})
            return SendResult(Verdict.RETRY, f"the {channel.type} channel failed: {type(exc).__name__}: {exc}")


def _channels(budget: Budget) -> set[int]:
    """The channels at their bound (the budget's keys are channel ids)."""
    return {key for key in budget.full() if isinstance(key, int)}
