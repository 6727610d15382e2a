"""Outgoing webhooks' writes: subscriptions (created, changed, re-enabled, replayed, deleted, each
with its event), the claim that leases the subscriptions due, and how each claim's deliveries
ended — the cursor moved past what was delivered, the next retry scheduled, a subscription that
failed for too long disabled (with an event admins see)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection, Mapping
from typing import Any

import msgspec
from sqlalchemy import Connection

from frontdesk import destinations
from frontdesk.actions.events import emit
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain import webhooks as rules
from frontdesk.domain.errors import InvalidInput, NotFound
from frontdesk.domain.model import Actor
from frontdesk.domain.webhooks import Attempt, Claim, Due, Retries
from frontdesk.store.database import tally, wake
from frontdesk.store.sql import webhooks as store

MAX_URL = 2000
RESOLVE_SECONDS = 5.0  # a host whose name does not resolve by then is refused


async def check_url(url: str, allow_private: bool) -> str:
    """An http(s) URL whose host the HTTP step's guard lets us call (destinations.pin), else 422 naming it."""
    if len(url) > MAX_URL:
        raise InvalidInput("invalid_url", f"url: at most {MAX_URL} characters", "url")
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            await destinations.pin(url, allow_private)
    except destinations.Refused as exc:
        raise InvalidInput("invalid_url", f"url: {exc}", "url") from None
    except TimeoutError:
        raise InvalidInput("invalid_url", f"url: its host did not resolve in {RESOLVE_SECONDS:g} s", "url") from None
    return url


def create_subscription(conn: Connection, url: str, event_types: list[str], actor: Actor) -> tuple[int, str]:
    """A subscription to the events logged from now on; its id and its secret (shown this once)."""
    types, secret, at = rules.check_event_types(event_types), rules.new_secret(), now()
    values = {
        "url": url,
        "event_types": types,
        "secret": secret,
        "enabled": True,
        "position": store.last_event_id(conn),
        "attempt": 0,
        "next_attempt_at": at,
        "created_at": at,
        "updated_at": at,
    }
    subscription_id = store.insert_subscription(conn, values)
    payload: ev.WebhookCreatedPayload = {
        "webhook_id": subscription_id,
        "url": url,
        "event_types": types,
        "actor": actor.as_payload(),
    }
    emit(conn, ev.WEBHOOK_CREATED, payload)
    return subscription_id, secret


def update_subscription(conn: Connection, subscription_id: int, changes: Mapping[str, Any], actor: Actor) -> None:
    """Change the `url`, the `event_types`, or `enabled`: re-enabling starts a fresh retry schedule
    at the event where the cursor stopped."""
    values: dict[str, Any] = {key: changes[key] for key in ("url", "enabled") if key in changes}
    if "event_types" in changes:
        values["event_types"] = rules.check_event_types(changes["event_types"])
    if values.get("enabled") is True:
        values.update(_fresh_schedule(now()), disabled_at=None, failing_since=None, last_error=None)
    _change(conn, subscription_id, values, sorted(changes), actor)


def rotate_secret(conn: Connection, subscription_id: int, actor: Actor) -> str:
    """A new secret signs every delivery from now on; the answer is the only place it is shown."""
    secret = rules.new_secret()
    _change(conn, subscription_id, {"secret": secret}, ["secret"], actor)
    return secret


def replay(conn: Connection, subscription_id: int, from_event_id: int, actor: Actor) -> None:
    """Deliver again from `from_event_id` on (its cursor moved back, or forward to skip events)."""
    if from_event_id > store.last_event_id(conn) + 1:
        raise InvalidInput("invalid_from_event_id", f"from_event_id: no event {from_event_id} yet", "from_event_id")
    values = {"position": from_event_id - 1, **_fresh_schedule(now())}
    _change(conn, subscription_id, values, ["position"], actor)


def delete_subscription(conn: Connection, subscription_id: int, actor: Actor) -> None:
    if not store.delete_subscription(conn, subscription_id):
        raise NotFound("webhook", subscription_id)
    emit(conn, ev.WEBHOOK_DELETED, {"webhook_id": subscription_id, "actor": actor.as_payload()})


def _change(conn: Connection, subscription_id: int, values: dict[str, Any], changed: list[str], actor: Actor) -> None:
    if not store.update_subscription(conn, subscription_id, {**values, "updated_at": now()}):
        raise NotFound("webhook", subscription_id)
    payload: ev.WebhookUpdatedPayload = {"webhook_id": subscription_id, "changed": changed, "actor": actor.as_payload()}
    emit(conn, ev.WEBHOOK_UPDATED, payload)
    wake(conn, "webhooks")


def _fresh_schedule(at: dt.datetime) -> dict[str, Any]:
    return {"attempt": 0, "head_since": None, "next_attempt_at": at}


# -- the sender's claims and outcomes ----------------------------------------------------------
def claim_due(
    conn: Connection, at: dt.datetime, lease: dt.timedelta, limit: int, skip: Collection[int], batch: int
) -> list[Claim]:
    """Lease up to `limit` due subscriptions that have events of their types to receive (up to
    `batch` each). A subscription none of whose new events it wants has its cursor moved past them."""
    horizon = store.last_event_id(conn)
    claims = [_claim(conn, due, at, lease, horizon, batch) for due in store.due(conn, at, horizon, skip, limit)]
    return [claim for claim in claims if claim is not None]


def _claim(conn: Connection, due: Due, at: dt.datetime, lease: dt.timedelta, horizon: int, batch: int) -> Claim | None:
    """Lease `due` with its next events; None, its cursor moved to `horizon`, when none is of its types."""
    found = store.next_events(conn, due.position, horizon, due.event_types, batch)
    if not found:
        store.settle(conn, due.id, due.position, {"position": horizon})
        return None
    store.update_subscription(conn, due.id, {"lease_until": at + lease})
    return Claim(subscription=due, events=found, horizon=horizon if len(found) < batch else found[-1].id)


def record_and_claim_next(
    conn: Connection,
    claim: Claim,
    attempts: list[Attempt],
    at: dt.datetime,
    retries: Retries,
    lease: dt.timedelta,
    batch: int,
) -> Claim | None:
    """Record how the claim went; when it was a whole batch and every event was delivered, lease
    the subscription's next batch in the same write (None when there is none, or it failed)."""
    record_outcome(conn, claim, attempts, at, retries)
    whole = len(claim.events) == batch and len(attempts) == batch and attempts[-1].delivered
    if not whole:
        return None
    horizon = store.last_event_id(conn)
    found = store.due(conn, at, horizon, (), 1, only=claim.subscription.id)
    return _claim(conn, found[0], at, lease, horizon, batch) if found else None


def record_outcome(conn: Connection, claim: Claim, attempts: list[Attempt], at: dt.datetime, retries: Retries) -> None:
    """Log the attempts; move the cursor past what was delivered; schedule the retry of what failed.
    A replay meanwhile wins: the cursor is left where it put it, only the lease is given back."""
    due = claim.subscription
    if not store.exists(conn, due.id):
        return
    store.log_attempts(conn, due.id, [_logged(a) for a in attempts], rules.KEPT_ATTEMPTS)
    for attempt in attempts:
        tally(conn, "webhook", "delivered" if attempt.delivered else "failed")
    failed = attempts[-1] if attempts and not attempts[-1].delivered else None
    delivered = [a.event_id for a in attempts if a.delivered]
    if failed is None:
        done = len(delivered) == len(claim.events)
        values = {"position": claim.horizon if done else delivered[-1], **_fresh_schedule(at), "failing_since": None}
        _settle(conn, due, {**values, "last_error": None, "lease_until": None})
        return
    values = _failure(due, failed, delivered[-1] if delivered else due.position, at, retries.first_delay)
    if values["failing_since"] <= at - retries.disable_after:
        values.update(enabled=False, disabled_at=at)
    if _settle(conn, due, values) and values.get("enabled") is False:
        _told_disabled(conn, due, values["failing_since"], values["last_error"])


def _settle(conn: Connection, due: Due, values: dict[str, Any]) -> bool:
    """False when a replay moved the cursor meanwhile: then only the lease is given back."""
    if store.settle(conn, due.id, due.position, values):
        return True
    store.update_subscription(conn, due.id, {"lease_until": None})
    return False


def _failure(due: Due, failed: Attempt, position: int, at: dt.datetime, first_delay: float) -> dict[str, Any]:
    """The cursor after the last delivered event; the failed one retried later, or given up after RETRY_FOR."""
    moved = position != due.position  # a new event heads the queue: its schedule starts now
    head_since = at if moved or due.head_since is None else due.head_since
    failing_since = at if moved or due.failing_since is None else due.failing_since
    attempt = 1 if moved else due.attempt + 1
    error = failed.error or f"HTTP {failed.status_code}"
    values = {"failing_since": failing_since, "lease_until": None, "last_error": error}
    if head_since <= at - rules.RETRY_FOR:  # given up: the cursor moves past it
        return {**values, "position": failed.event_id, **_fresh_schedule(at), "last_error": f"gave up: {error}"}
    delay = dt.timedelta(seconds=rules.retry_delay(attempt, failed.retry_after, first_delay))
    return {**values, "position": position, "attempt": attempt, "head_since": head_since, "next_attempt_at": at + delay}


def _logged(attempt: Attempt) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(attempt).items() if k != "retry_after"}


def _told_disabled(conn: Connection, due: Due, failing_since: dt.datetime, error: str) -> None:
    payload: ev.WebhookDisabledPayload = {
        "webhook_id": due.id,
        "url": due.url,
        "failing_since": failing_since.astimezone(dt.UTC).isoformat(),
        "error": error,
    }
    emit(conn, ev.WEBHOOK_DISABLED, payload)
