"""Rate limits of the public web chat: token buckets per visitor and per client address.

Kept in this process's memory, not in the database: the widget's traffic is the highest-volume
public traffic, and a write per request would cost more than what it protects. So each server
process counts on its own (docs/operations.md): with N processes behind a balancer, a client may
get up to N times the rate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from frontdesk.clock import Clock
from frontdesk.domain.errors import TooManyRequests
from frontdesk.settings import Settings

MAX_BUCKETS = 100_000  # beyond this, full buckets are dropped: the memory stays bounded


@dataclass(frozen=True)
class Rate:
    """At most `burst` at once, refilled at `per_hour` an hour."""

    name: str
    burst: int
    per_hour: float

    @property
    def per_second(self) -> float:
        return self.per_hour / 3600


@dataclass
class _Bucket:
    tokens: float
    at: float  # clock time, in seconds


class WebchatLimits:
    """The web chat's rates: every request per address, new sessions per address, messages per visitor."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.clock = clock
        requests = settings.webchat_address_requests_per_minute
        self.requests = Rate("requests from this address", requests, requests * 60)
        sessions = settings.webchat_address_sessions_per_hour
        self.sessions = Rate("new chat sessions from this address", sessions, sessions)
        messages = settings.webchat_visitor_messages_per_minute
        self.messages = Rate("messages from this visitor", messages, messages * 60)
        self._buckets: dict[tuple[str, str], _Bucket] = {}

    def take(self, rate: Rate, key: str) -> None:
        """Spend one from `key`'s bucket of `rate`, or refuse with 429 and when to try again."""
        moment = self.clock().timestamp()
        bucket = self._buckets.get((rate.name, key))
        if bucket is None:
            self._make_room(moment)
            bucket = self._buckets[(rate.name, key)] = _Bucket(rate.burst, moment)
        bucket.tokens = min(rate.burst, bucket.tokens + (moment - bucket.at) * rate.per_second)
        bucket.at = moment
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        wait = math.ceil((1 - bucket.tokens) / rate.per_second) if rate.per_second else 3600
        raise TooManyRequests("rate_limited", f"too many {rate.name}; try again in {wait} s", wait)

    def _make_room(self, moment: float) -> None:
        if len(self._buckets) < MAX_BUCKETS:
            return
        rates = {r.name: r for r in (self.requests, self.sessions, self.messages)}
        for (name, key), bucket in list(self._buckets.items()):
            if bucket.tokens + (moment - bucket.at) * rates[name].per_second >= rates[name].burst:
                del self._buckets[(name, key)]  # full again: forgetting it changes nothing
        if len(self._buckets) >= MAX_BUCKETS:  # a flood of fresh keys: forget the oldest half
            for oldest in sorted(self._buckets, key=lambda k: self._buckets[k].at)[: MAX_BUCKETS // 2]:
                del self._buckets[oldest]
