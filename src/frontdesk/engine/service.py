"""The engine inside a server process: four loops woken on commit (store.wakeup), each doing its
database work as writer jobs.

- leases: about every second, renews this engine's leases on partitions of the event log and
  takes or gives back partitions towards a fair share among the live engines (ADR 0009);
- events: woken by every commit that wrote events; processes those of the partitions it owns, in
  order, in batches;
- timers: sleeps until the next due time (at most a second), then fires what is due (run
  timeouts and waits, reassignments of conversations left without a first reply, queued
  conversations whose skills requirement is relaxed, and queues too long to drain in one
  transaction, and members idle past their team's auto-away delay);
- http: woken when a run waits on an HTTP call or a call lands; launches each call on its own
  (frontdesk.inflight), a few per host, and resumes each run as its answer comes.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from typing import Any

from frontdesk.assignment.presence import auto_away_due
from frontdesk.assignment.queue import continue_drains, next_relax, relax_due
from frontdesk.assignment.reassign import next_reply_due, reassign_due
from frontdesk.clock import now
from frontdesk.engine.consumer import process_owned
from frontdesk.engine.http import IN_FLIGHT, PER_HOST, claim_calls, perform, record_result
from frontdesk.engine.runs import VersionCache
from frontdesk.engine.timers import fire_due, next_due
from frontdesk.inflight import InFlight
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql import partitions
from frontdesk.store.wakeup import IDLE_SECONDS, WakeLoop, Wakeup, until


def new_owner() -> str:
    """A name no other engine has, that says where it runs: host, process, a random tag."""
    return f"{socket.gethostname()[:30]}-{os.getpid()}-{secrets.token_hex(4)}"


class Engine:
    def __init__(self, db: Database, settings: Settings, owner: str | None = None) -> None:
        """`owner`: the name this engine holds its partitions under (a new one by default)."""
        self.db = db
        self.settings = settings
        self.cache = VersionCache()
        self.owner = owner or new_owner()
        self.partitions: tuple[int, ...] = ()  # as of the last heartbeat; each batch checks again
        self._lease = dt.timedelta(seconds=settings.engine_lease_seconds)
        http = Wakeup(db, "http")
        self._events = Wakeup(db, "events")
        self._calls = InFlight("http", IN_FLIGHT, PER_HOST, http)
        self._loops = (
            WakeLoop("engine-leases", Wakeup(db), self._leases_pass),
            WakeLoop("engine-events", self._events, self._events_pass),
            WakeLoop("engine-timers", Wakeup(db, "timers"), self._timers_pass),
            WakeLoop("engine-http", http, self._http_pass),
        )

    def start(self) -> None:
        for loop in self._loops:
            loop.start()

    async def stop(self) -> None:
        """Stop, and give the partitions back at once so that the other engines need not wait
        for the leases to run out."""
        await self.halt()
        owner = self.owner
        await self.db.write(lambda c: partitions.release(c, owner))

    async def halt(self) -> None:
        """Stop the loops and keep the leases, as a crash would: they run out on their own."""
        for loop in self._loops:
            await loop.stop()
        await self._calls.cancel()

    async def _leases_pass(self) -> float:
        owner, lease, before = self.owner, self._lease, self.partitions
        self.partitions = await self.db.write(lambda c: partitions.heartbeat(c, owner, now(), lease))
        if not set(self.partitions) <= set(before):
            self._events.set()  # a partition taken over may hold events waiting since its owner died
        return min(IDLE_SECONDS, self._lease.total_seconds() / 3)

    async def _events_pass(self) -> float:
        if not self.partitions:
            return IDLE_SECONDS
        cache, owner = self.cache, self.owner
        processed = await self.db.write(lambda c: process_owned(c, cache, owner, now()))
        return 0 if processed else IDLE_SECONDS

    async def _timers_pass(self) -> float:
        cache = self.cache
        fired = await self.db.write(
            lambda c: (
                fire_due(c, cache, now())
                + reassign_due(c, now())
                + relax_due(c, now())
                + continue_drains(c, now())
                + auto_away_due(c, now())
            )
        )
        if fired:
            return 0
        due = await self.db.read(
            lambda c: min(filter(None, (next_due(c), next_reply_due(c), next_relax(c))), default=None)
        )
        return until(None if due is None else (due - now()).total_seconds())

    async def _http_pass(self) -> float:
        budget = self._calls.budget()
        calls = await self.db.write(lambda c: claim_calls(c, now(), budget)) if budget.free > 0 else []
        for call in calls:
            self._calls.launch(call["host"], self._call(call))
        # Nothing more to claim now: a commit or a landing rings the bell.
        return IDLE_SECONDS if not calls or budget.free <= 0 else 0

    async def _call(self, call: dict[str, Any]) -> None:
        result = await perform(call, self.settings.http_allow_private)
        cache = self.cache
        await self.db.write(lambda c: record_result(c, cache, call, result, now()))
