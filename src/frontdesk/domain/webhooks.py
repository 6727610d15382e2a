"""Outgoing event webhooks: what a subscriber receives and how it is signed (the Standard Webhooks
specification, https://www.standardwebhooks.com), and when a failed delivery is tried again.

Pure rules, no I/O: the loop that sends (engine/webhooks.py) and the writes (actions/webhooks.py)
share them. The `webhook-id` is derived from the event's id, so every retry and every replay of
an event carries the same one and a receiver drops the duplicates that at-least-once brings.
"""

from __future__ import annotations

import base64
import datetime as dt
import random
import secrets
from collections.abc import Collection, Sequence

import msgspec
from standardwebhooks import Webhook

from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.events import EventType
from frontdesk.domain.records import Event

SECRET_PREFIX = "whsec_"  # the specification's form: the base64 of the key's bytes after it
RETRY_FOR = dt.timedelta(days=3)  # an event failing this long is given up, and the cursor moves on
MAX_DELAY_SECONDS = 6 * 3600.0  # the backoff stops doubling here: a retry at least every six hours
MAX_RETRY_AFTER_SECONDS = 6 * 3600.0  # a receiver's Retry-After is honoured up to the same bound
EXCERPT_BYTES = 1024  # of a receiver's answer, kept in the delivery log
KEPT_ATTEMPTS = 200  # delivery log rows kept per subscription, the newest
_encode = msgspec.json.Encoder().encode


class Retries(msgspec.Struct, frozen=True, kw_only=True):
    """The operator's settings: the first retry's delay, and how long failing disables a subscription."""

    first_delay: float
    disable_after: dt.timedelta


class Due(msgspec.Struct, frozen=True, kw_only=True):
    """A subscription a claim found due: where its cursor stands and how its deliveries have gone."""

    id: int
    url: str
    secret: str
    event_types: list[str]
    position: int
    attempt: int  # failed attempts at the event after `position`
    head_since: dt.datetime | None
    failing_since: dt.datetime | None


class Claim(msgspec.Struct, frozen=True, kw_only=True):
    """A leased subscription and the events it is to receive next, in order. Once all are
    delivered its cursor moves to `horizon`: the events between them were not of its types."""

    subscription: Due
    events: list[Event]
    horizon: int


class Attempt(msgspec.Struct, frozen=True, kw_only=True):
    """How one POST of one event went (a row of the delivery log)."""

    event_id: int
    event_type: str
    attempt: int
    attempted_at: dt.datetime
    delivered: bool
    status_code: int | None
    error: str | None
    latency_ms: int
    response_excerpt: str | None
    retry_after: float | None = None  # seconds the receiver asked for (not logged)


def new_secret() -> str:
    """A signing secret in the `whsec_<base64 of 32 random bytes>` form every Standard Webhooks library takes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def message_id(event_id: int) -> str:
    """The `webhook-id` of an event: the same on each retry and replay, unique per event."""
    return f"evt_{event_id}"


def body(event: Event) -> bytes:
    """`{"type", "timestamp", "data"}`: the event's payload with the ids of the event, contact and conversation."""
    data = {
        **event.payload,
        "event_id": event.id,
        "contact_id": event.contact_id,
        "conversation_id": event.conversation_id,
    }
    timestamp = event.created_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return _encode({"type": event.type, "timestamp": timestamp, "data": data})


class Signer:
    """Signs one subscription's deliveries: its secret decoded once for a whole turn."""

    def __init__(self, secret: str) -> None:
        self._webhook = Webhook(secret)

    def headers(self, event_id: int, at: dt.datetime, content: bytes) -> dict[str, str]:
        """The three headers of the specification for one attempt: its id, its time, and the signature."""
        msg_id = message_id(event_id)
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": self._webhook.sign(msg_id, at, content.decode()),
            "content-type": "application/json",
        }


def signed_headers(secret: str, event_id: int, at: dt.datetime, content: bytes) -> dict[str, str]:
    """The headers of one attempt signed with `secret` (Signer, for one delivery)."""
    return Signer(secret).headers(event_id, at, content)


def retry_delay(attempt: int, retry_after: float | None, first_delay: float) -> float:
    """Seconds before the next attempt after `attempt` failed: the receiver's Retry-After when it
    gave one (capped), else `first_delay` doubling each attempt up to six hours, with jitter (half
    to all of it) so that subscribers failing together do not retry together."""
    if retry_after is not None and retry_after > 0:
        return min(retry_after, MAX_RETRY_AFTER_SECONDS)
    delay = min(first_delay * 2.0 ** min(attempt - 1, 32), MAX_DELAY_SECONDS)
    return delay * random.uniform(0.5, 1.0)


def check_event_types(names: Sequence[str]) -> list[str]:
    """The event types asked for, each a known one (domain/events.py), in a stable order."""
    known: Collection[str] = {str(kind) for kind in EventType}
    for name in names:
        if name not in known:
            raise InvalidInput(
                "unknown_event_type",
                f"event_types: {name[:80]!r} is not an event type (known: {', '.join(sorted(known))})",
                "event_types",
            )
    if not names:
        raise InvalidInput("invalid_event_types", "event_types: name at least one event type", "event_types")
    return sorted(set(names))
