"""Delivers the event log to webhook subscribers: each subscription in log order, at least once.

A loop woken on commit (store.wakeup, topics "events" and "webhooks") leases the subscriptions
due (actions.webhooks: one sender at a time on each, also across processes) and sends each one's
next events on its own task (frontdesk.inflight), one after another, stopping at the first that
fails: order holds, and a slow or broken receiver holds up only its own subscription, never the
others nor ingest (this runs in the worker, outside any transaction). A task that delivered a
whole batch records it and leases the subscription's next batch in one write, and goes on: a
subscription that is behind does not wait for the loop. Each turn re-checks the URL with the
HTTP step's private-address guard and reads at most EXCERPT_BYTES of each answer; connections
are kept alive between turns (engine.webhook_http).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass

from frontdesk import destinations
from frontdesk.actions.webhooks import claim_due, record_and_claim_next
from frontdesk.clock import Clock, now
from frontdesk.domain import webhooks as rules
from frontdesk.domain.records import Event
from frontdesk.domain.webhooks import Attempt, Claim, Retries
from frontdesk.engine import webhook_http
from frontdesk.inflight import InFlight
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql.webhooks import next_due
from frontdesk.store.wakeup import IDLE_SECONDS, WakeLoop, Wakeup, until

log = logging.getLogger(__name__)
IN_FLIGHT = 32  # subscriptions being delivered to at once
BATCH = 200  # events claimed for one subscription at a time, sent one after another
SETTLE_SECONDS = 0.25  # at most four claim passes a second under load: not one per commit, and bigger batches


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
        self._loop = WakeLoop("webhooks", wakeup, self._claim, settle=SETTLE_SECONDS)
        self._connections = webhook_http.Connections(destinations.tls_context)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()
        await self._sends.cancel()
        await self._connections.close()

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
        """Send the claim's events, then the next batch's while whole batches are delivered."""
        next_claim: Claim | None = claim
        while next_claim is not None:
            next_claim = await self._turn(next_claim)

    async def _turn(self, claim: Claim) -> Claim | None:
        """Send the claim's events; record how it went and lease the next batch if it may follow."""
        attempts = await self._send_all(claim)
        at = self.clock()
        return await self.db.write(
            lambda c: record_and_claim_next(c, claim, attempts, at, self.retries, self.lease, BATCH)
        )

    async def _send_all(self, claim: Claim) -> list[Attempt]:
        """The claim's events in order until one fails or the time is up; how each attempt went.
        The guard runs once per turn: the turn's connections go to the address it checked."""
        subscription = claim.subscription
        started, at = time.monotonic(), self.clock()
        try:
            async with asyncio.timeout(self.timeout):  # the guard's DNS lookup
                destination = await destinations.pin(subscription.url, self.settings.http_allow_private)
        except destinations.Refused as exc:
            return [_failed(claim, Answer(error=str(exc)), at, started)]
        except TimeoutError as exc:
            return [_failed(claim, Answer(error=f"{type(exc).__name__}: {exc}".rstrip(": ")), at, started)]
        signer = rules.Signer(subscription.secret)
        attempts: list[Attempt] = []
        deadline = time.monotonic() + self.timeout
        for index, event in enumerate(claim.events):
            number = subscription.attempt + 1 if index == 0 else 1
            attempts.append(await self._post(destination, signer, event, number))
            if not attempts[-1].delivered or time.monotonic() > deadline:
                break
        return attempts

    async def _send(self, destination: destinations.Destination, headers: dict[str, str], content: bytes) -> Answer:
        """POST; the status, the first EXCERPT_BYTES of the answer (never more is read), its Retry-After."""
        server_name = destination.extensions.get("sni_hostname")
        reply = await self._connections.post(destination.url, headers, content, server_name, rules.EXCERPT_BYTES)
        return Answer(
            status=reply.status,
            excerpt=reply.excerpt.decode(errors="replace"),
            retry_after=destinations.retry_after(reply.headers.get("retry-after")),
            error=None if 200 <= reply.status < 300 else f"HTTP {reply.status}",
        )

    async def _post(
        self, destination: destinations.Destination, signer: rules.Signer, event: Event, number: int
    ) -> Attempt:
        """One POST of one event, signed at the attempt's time; how it went."""
        started, at = time.monotonic(), self.clock()
        content = rules.body(event)
        headers = {**signer.headers(event.id, at, content), **destination.headers}
        try:
            async with asyncio.timeout(self.timeout):
                answer = await self._send(destination, headers, content)
        except (*webhook_http.ERRORS, TimeoutError) as exc:
            answer = Answer(error=f"{type(exc).__name__}: {exc}".rstrip(": "))
        return _attempt(event, number, answer, at, started)


def _failed(claim: Claim, answer: Answer, at: dt.datetime, started: float) -> Attempt:
    """The turn's first event, not sent: the guard refused its URL or did not answer in time."""
    return _attempt(claim.events[0], claim.subscription.attempt + 1, answer, at, started)


def _attempt(event: Event, number: int, answer: Answer, at: dt.datetime, started: float) -> Attempt:
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
