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
from dataclasses import dataclass

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
        self.lease = dt.timedelta(seconds=self.timeout * 3 + 30)  # a turn sends for at most twice the timeout
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
        if budget.free <= 0:  # every slot taken: the next landing rings the bell
            return IDLE_SECONDS
        busy = {key for key in budget.full() if isinstance(key, int)}
        at = self.clock()
        due = await self.db.read(lambda c: next_due(c, at, busy))
        if due is None or due > at:
            return until(None if due is None else (due - at).total_seconds())
        free = budget.free
        claims = await self.db.write(lambda c: claim_due(c, at, self.lease, free, busy, BATCH))
        for claim in claims:
            self._sends.launch(claim.subscription.id, self.deliver(claim))
        return 0.0 if len(claims) == free else IDLE_SECONDS  # more may be due; else a commit or a landing wakes it

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
        """One POST of one event, signed at the attempt's time; how it went."""
        started, at = time.monotonic(), self.clock()
        subscription = claim.subscription
        content = rules.body(event)
        try:
            async with asyncio.timeout(self.timeout):  # the guard's DNS lookup included
                destination = await destinations.pin(subscription.url, self.settings.http_allow_private)
                headers = {**rules.signed_headers(subscription.secret, event.id, at, content), **destination.headers}
                answer = await _send(client, destination, headers, content)
        except destinations.Refused as exc:
            answer = Answer(error=str(exc))
        except (httpx.HTTPError, TimeoutError) as exc:
            answer = Answer(error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        return Attempt(
            event_id=event.id,
            event_type=event.type,
            attempt=number,
            attempted_at=at,
            delivered=answer.error is None,
            status_code=answer.status,
            error=answer.error,
            latency_ms=int((time.monotonic() - started) * 1000),
            response_excerpt=answer.excerpt,
            retry_after=answer.retry_after,
        )


@dataclass(frozen=True)
class Answer:
    """What came back from a receiver: a status and the start of its body, or why nothing did."""

    status: int | None = None
    excerpt: str | None = None
    retry_after: float | None = None
    error: str | None = None  # None: delivered (2xx)


async def _send(
    client: httpx.AsyncClient, destination: destinations.Destination, headers: dict[str, str], content: bytes
) -> Answer:
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
    status = response.status_code
    return Answer(
        status=status,
        excerpt=kept[: rules.EXCERPT_BYTES].decode(errors="replace"),
        retry_after=retry_after(response.headers.get("retry-after")),
        error=None if 200 <= status < 300 else f"HTTP {status}",
    )
