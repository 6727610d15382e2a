"""Throttling of web logins: growing delays after repeated failures, per client address and per
account, counted in the database so that every server process sharing it sees the same counts.

The policy (docs/security.md): an address gets 5 failures free, an account 10 (from any
address); past that each further attempt must wait 1, 2, 4 … s, at most 5 minutes. A success
resets its address and its account; failures 15 minutes old are forgotten. A browser that has
logged in to an account before carries a signed "known browser" cookie and is exempt from that
account's limit, so a spray from other addresses never locks the owner out of their own browser.

An attempt is counted as a failure *before* its password is checked, in the write that checks
the delay: concurrent attempts cannot slip past the limit, and a refused one costs no argon2 hash.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
from dataclasses import dataclass

from sqlalchemy import Connection

from frontdesk.domain.errors import TooManyRequests
from frontdesk.store.sql import sessions as sql

KNOWN_COOKIE = "fd_known"
KNOWN_LIFETIME = dt.timedelta(days=180)
WINDOW = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Limit:
    """`free` failures without delay, then 1 s, 2 s, 4 s … before each further attempt, up to `cap`."""

    free: int
    cap: dt.timedelta = dt.timedelta(minutes=5)

    def delay(self, failures: int) -> dt.timedelta:
        """The wait before the next attempt, after `failures` failures."""
        if failures < self.free:
            return dt.timedelta(0)
        return min(dt.timedelta(seconds=2 ** min(failures - self.free, 20)), self.cap)


ADDRESS = Limit(free=5)
ACCOUNT = Limit(free=10)  # more lenient: many people behind one address must not block each other


@dataclass(frozen=True)
class Attempt:
    """One login attempt: from which client address, for which e-mail, from a known browser or not."""

    address: str
    email: str
    known_browser: bool = False

    def counters(self) -> list[tuple[str, Limit]]:
        address = [(f"address:{self.address}", ADDRESS)]
        return address if self.known_browser else [*address, (f"account:{self.email}", ACCOUNT)]


def admit(conn: Connection, attempt: Attempt, now: dt.datetime) -> None:
    """Count the attempt (as a failure until it succeeds), or refuse it while a delay runs."""
    sql.forget_failures_before(conn, now - WINDOW)
    counts = [(key, limit, sql.locked_failures(conn, key, now)) for key, limit in attempt.counters()]
    blocked = [until for _, _, (_, until) in counts if until is not None and until > now]
    if blocked:
        wait = math.ceil((max(blocked) - now).total_seconds())
        raise TooManyRequests("too_many_attempts", f"too many failed attempts; try again in {wait} s", wait)
    for key, limit, (failures, _) in counts:
        delay = limit.delay(failures + 1)
        sql.set_failures(conn, key, failures + 1, now, now + delay if delay else None)


def succeeded(conn: Connection, attempt: Attempt) -> None:
    """The right password: its address and account start afresh."""
    keys = [f"address:{attempt.address}", f"account:{attempt.email}"]
    sql.forget_failures(conn, keys)


# -- the known-browser cookie ------------------------------------------------------------------
def known_browser_cookie(secret: str, email: str) -> str:
    """Proves that this browser logged in to `email` before (an HMAC under the instance secret)."""
    return hmac.new(secret.encode(), b"frontdesk.known-browser:" + email.encode(), hashlib.sha256).hexdigest()


def is_known_browser(secret: str, email: str, cookie: str | None) -> bool:
    return cookie is not None and hmac.compare_digest(known_browser_cookie(secret, email), cookie)
