"""Delivers the event log to webhook subscribers: each subscription in log order, at least once.

A loop woken on commit (store.wakeup, topics "events" and "webhooks") leases the subscriptions
due (actions.webhooks: one sender at a time on each, also across processes) and sends each one's
next events on its own task (frontdesk.inflight), one after another, stopping at the first that
fails: order holds, and a slow or broken receiver holds up only its own subscription, never the
others nor ingest (this runs in the worker, outside any transaction). Each attempt re-checks the
URL with the HTTP step's private-address guard and reads at most EXCERPT_BYTES of the answer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import httpx

from frontdesk import destinations
from frontdesk.actions.webhooks import claim_due, record_outcome
from frontdesk.channels.media import retry_after
from frontdesk.clock import Clock, now
from frontdesk.domain import webhooks as rules
from frontdesk.domain.records import Event
from frontdesk.domain.webhooks import Attempt, Claim, Retries
from frontdesk.engine.http import tls_context
from frontdesk.inflight import InFlight
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql.webhooks import next_due
from frontdesk.store.wakeup import IDLE_SECONDS, WakeLoop, Wakeup, until

log = logging.getLogger(__name__)
IN_FLIGHT = 32  # subscriptions being delivered to at once
BATCH = 50  # events claimed for one subscription at a time, sent one after another


class WebhookSender:
    """One per worker process. `clock` is the time every decision uses (tests move it)."""

    def __init__(self, db: Database, settings: Settings, clock: Clock = now) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.timeout = settings.webhook_timeout_seconds
        self.lease = dt.timedelta(seconds=self.timeout * 3 + 30)  # two sends past the deadline, and the guard
        self.retries = Retries(
            first_delay=settings.webhook_backoff_seconds,
            disable_after=dt.timedelta(hours=settings.webhook_disable_after_hours),
        )
        wakeup = Wakeup(db, "events", "webhooks")
        self._sends = InFlight("webhooks", IN_FLIGHT, 1, wakeup)  # one task per subscription: its order
        self._loop = WakeLoop("webhooks", wakeup, self._claim)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self._sends.cancel()

    async def _claim(self) -> float:
        """Launch what is due and fits, then sleep until more could be: a commit, a landing, a due time."""
        budget = self._sends.budget()
        busy = {key for key in budget.full() if isinstance(key, int)}
        at = self.clock()
        due = await self.db.read(lambda c: next_due(c, at, busy))
        if budget.free > 0 and due is not None and due <= at:
            free = budget.free
            claims = await self.db.write(lambda c: claim_due(c, at, self.lease, free, busy, BATCH))
            for claim in claims:
                self._sends.launch(claim.subscription.id, self.deliver(claim))
            return 0.0 if claims else IDLE_SECONDS
        return until(None if due is None else (due - at).total_seconds())

    async def deliver(self, claim: Claim) -> None:
        """Send the claim's events in order until one fails or the time is up; record how it went."""
        attempts: list[Attempt] = []
        deadline = time.monotonic() + self.timeout
        async with httpx.AsyncClient(verify=tls_context(), follow_redirects=False) as client:
            for index, event in enumerate(claim.events):
                number = claim.subscription.attempt + 1 if index == 0 else 1
                attempts.append(await self._post(client, claim, event, number))
                if not attempts[-1].delivered or time.monotonic() > deadline:
                    break
        at = self.clock()
        await self.db.write(lambda c: record_outcome(c, claim, attempts, at, self.retries))

    async def _post(self, client: httpx.AsyncClient, claim: Claim, event: Event, number: int) -> Attempt:
        started, at = time.monotonic(), self.clock()
        subscription = claim.subscription

        def attempt(delivered: bool, status: int | None, error: str | None, excerpt: str | None = None) -> Attempt:
            latency = int((time.monotonic() - started) * 1000)
            return Attempt(
                event_id=event.id,
                event_type=event.type,
                attempt=number,
                attempted_at=at,
                delivered=delivered,
                status_code=status,
                error=error,
                latency_ms=latency,
                response_excerpt=excerpt,
                retry_after=waited,
            )

        waited: float | None = None
        try:
            destination = await destinations.pin(subscription.url, self.settings.http_allow_private)
        except destinations.Refused as exc:
            return attempt(False, None, str(exc))
        content = rules.body(event)
        headers = {**rules.signed_headers(subscription.secret, event.id, at, content), **destination.headers}
        try:
            async with asyncio.timeout(self.timeout):
                status, excerpt, waited = await _send(client, destination, headers, content)
        except (httpx.HTTPError, TimeoutError) as exc:
            return attempt(False, None, f"{type(exc).__name__}: {exc}".rstrip(": "))
        delivered = 200 <= status < 300
        return attempt(delivered, status, None if delivered else f"HTTP {status}", excerpt)


async def _send(
    client: httpx.AsyncClient, destination: destinations.Destination, headers: dict[str, str], content: bytes
) -> tuple[int, str, float | None]:
    """POST; the status, the first EXCERPT_BYTES of the answer (never more is read), its Retry-After."""
    request = client.build_request(
        "POST", destination.url, content=content, headers=headers, extensions=destination.extensions
    )
    response = await client.send(request, stream=True)
    try:
        kept = b""
        async for chunk in response.aiter_raw():
            kept += chunk
            if len(kept) >= rules.EXCERPT_BYTES:
                break
    finally:
        await response.aclose()
    excerpt = kept[: rules.EXCERPT_BYTES].decode(errors="replace")
    return response.status_code, excerpt, retry_after(response.headers.get("retry-after"))
