"""Delivers outbound messages to their channel, with retries and a recorded status.

A message is claimed in the writer (its `next_attempt_at` pushed past the request timeout, its
attempt counted) before it is sent, and the outcome is written after. A claimed message is not
claimed again while its lease runs, so one message is never in flight twice; receivers get a
stable `X-Frontdesk-Delivery` id to drop the duplicate a lost acknowledgement could cause.
Each message is sent on its own (frontdesk.inflight), at most a few at once per channel, so a
slow receiver delays only its own channel's messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

import httpx
from sqlalchemy import Connection, and_, func, select, update

from frontdesk.actions.events import emit
from frontdesk.channels import api
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.model import DeliveryStatus
from frontdesk.inflight import Budget, InFlight
from frontdesk.settings import Settings
from frontdesk.store.database import Database, sleep_until_set
from frontdesk.store.tables import PENDING, channels, contact_identities, conversations, messages

log = logging.getLogger(__name__)
IN_FLIGHT = 64  # messages being sent at once, over all channels
PER_CHANNEL = 8  # of which for one channel (one callback_url): a slow one cannot take every slot
IDLE_SECONDS = 1.0


def claim_due(conn: Connection, lease_seconds: float, budget: Budget) -> list[dict[str, Any]]:
    """Lease the due messages the budget has room for, oldest first; a channel at its bound is
    skipped, its messages left for a later claim."""
    at = now()
    query = (
        select(
            messages.c.id,
            messages.c.channel_id,
            messages.c.text,
            messages.c.quick_replies,
            messages.c.conversation_id,
            messages.c.author_kind,
            messages.c.author_agent_id,
            messages.c.created_at,
            messages.c.delivery_attempts,
            conversations.c.contact_id,
            channels.c.type.label("channel_type"),
            channels.c.config.label("channel_config"),
            channels.c.secret.label("channel_secret"),
            contact_identities.c.external_id,
        )
        .join(conversations, conversations.c.id == messages.c.conversation_id)
        .join(channels, channels.c.id == messages.c.channel_id)
        .outerjoin(
            contact_identities,
            and_(
                contact_identities.c.contact_id == conversations.c.contact_id,
                contact_identities.c.channel_id == messages.c.channel_id,
            ),
        )
        .where(
            messages.c.delivery_status == PENDING,
            messages.c.next_attempt_at <= at,
            messages.c.channel_id.not_in(budget.full()),
        )
        .order_by(messages.c.next_attempt_at, messages.c.id)
        .limit(budget.free)
    )
    rows = [dict(r) for r in conn.execute(query).mappings() if budget.take(r["channel_id"])]
    lease_end = at + dt.timedelta(seconds=lease_seconds)
    for row in rows:
        row["delivery_attempts"] += 1
        conn.execute(
            update(messages)
            .where(messages.c.id == row["id"])
            .values(next_attempt_at=lease_end, delivery_attempts=row["delivery_attempts"])
        )
    return rows


def record_outcome(
    conn: Connection, message: dict[str, Any], error: str | None, max_attempts: int, backoff: float
) -> None:
    pending = and_(messages.c.id == message["id"], messages.c.delivery_status == DeliveryStatus.PENDING)
    attempts = message["delivery_attempts"]
    if error is None:
        status = DeliveryStatus.SENT
        values: dict[str, Any] = {"delivery_status": status, "next_attempt_at": None, "delivery_error": None}
    elif attempts >= max_attempts:
        status = DeliveryStatus.FAILED
        values = {"delivery_status": status, "next_attempt_at": None, "delivery_error": error}
    else:
        delay = backoff * 2 ** (attempts - 1)
        values = {"next_attempt_at": now() + dt.timedelta(seconds=delay), "delivery_error": error}
        conn.execute(update(messages).where(pending).values(**values))
        return
    if conn.execute(update(messages).where(pending).values(**values)).rowcount:
        emit(
            conn,
            ev.MESSAGE_DELIVERY_UPDATED,
            {"message_id": message["id"], "status": str(status), "attempts": attempts, "error": error},
            contact_id=message["contact_id"],
            conversation_id=message["conversation_id"],
        )


def next_attempt(conn: Connection, skip: set[Any]) -> dt.datetime | None:
    """When the next message falls due, leaving out the channels in `skip` (at their bound: a
    landing wakes the loop for them)."""
    pending = and_(messages.c.delivery_status == PENDING, messages.c.channel_id.not_in(skip))
    return conn.execute(select(func.min(messages.c.next_attempt_at)).where(pending)).scalar()


class DeliveryWorker:
    """One per process: wakes when the writer commits a pending message or a send lands, else
    polls each second."""

    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._sends = InFlight("delivery", IN_FLIGHT, PER_CHANNEL, self._event)

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.db.on_commit(self._on_commit)
        self._task = asyncio.create_task(self._run(), name="frontdesk-delivery")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._sends.cancel()

    def _on_commit(self, topics: set[str]) -> None:
        if "delivery" in topics and self._loop is not None:
            self._loop.call_soon_threadsafe(self._event.set)

    async def _run(self) -> None:
        timeout = self.settings.delivery_timeout_seconds
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            while True:
                self._event.clear()
                try:
                    await self._claim(client, timeout * 3)
                except Exception:
                    log.exception("delivery claim failed")
                    await sleep_until_set(self._event, IDLE_SECONDS)

    async def _claim(self, client: httpx.AsyncClient, lease_seconds: float) -> None:
        """Launch what is due and fits, then sleep until more could: a commit, a landing, a due time."""
        budget = self._sends.budget()
        if budget.free > 0:
            claimed = await self.db.write(lambda c: claim_due(c, lease_seconds, budget))
            for message in claimed:
                self._sends.launch(message["channel_id"], self._deliver(client, message))
        if budget.free <= 0:  # every slot taken: the next landing wakes this loop
            await sleep_until_set(self._event, IDLE_SECONDS)
            return
        skip = budget.full()
        due = await self.db.read(lambda c: next_attempt(c, skip))
        wait = IDLE_SECONDS if due is None else min(IDLE_SECONDS, (due - now()).total_seconds())
        await sleep_until_set(self._event, wait)

    async def _deliver(self, client: httpx.AsyncClient, message: dict[str, Any]) -> None:
        error = await _send(client, message)
        if error:
            log.warning(
                "delivery failed",
                extra={"message_id": message["id"], "attempt": message["delivery_attempts"], "error": error},
            )
        settings = self.settings
        await self.db.write(
            lambda c: record_outcome(
                c, message, error, settings.delivery_max_attempts, settings.delivery_backoff_seconds
            )
        )


async def _send(client: httpx.AsyncClient, message: dict[str, Any]) -> str | None:
    """Send one message; None on success, else why it failed."""
    if message["channel_type"] != "api":
        return f"no delivery adapter for channel type {message['channel_type']}"
    request = api.outbound_request(message["channel_config"], message["channel_secret"], message)
    if request is None:
        return "the channel has no callback_url"
    try:
        response = await client.post(request.url, content=request.body, headers=request.headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if response.is_success:
        return None
    return f"callback answered HTTP {response.status_code}"
