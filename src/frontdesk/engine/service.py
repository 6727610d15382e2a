"""The engine inside a server process: three loops, each doing its database work as writer jobs.

- events: woken by every commit that wrote events; processes them in order, in batches;
- timers: sleeps until the next due time (at most a second), then fires what is due (run
  timeouts and waits, reassignments of conversations left without a first reply, queued
  conversations whose skills requirement is relaxed, and queues too long to drain in one
  transaction, and members idle past their team's auto-away delay);
- http: woken when a run waits on an HTTP call or a call lands; launches each call on its own
  (frontdesk.inflight), a few per host, and resumes each run as its answer comes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from frontdesk.assignment.presence import auto_away_due
from frontdesk.assignment.queue import continue_drains, next_relax, relax_due
from frontdesk.assignment.reassign import next_reply_due, reassign_due
from frontdesk.clock import now
from frontdesk.engine.consumer import process_events
from frontdesk.engine.http import IN_FLIGHT, PER_HOST, claim_calls, perform, record_result
from frontdesk.engine.runs import VersionCache
from frontdesk.engine.timers import fire_due, next_due
from frontdesk.inflight import InFlight
from frontdesk.settings import Settings
from frontdesk.store.database import Database, sleep_until_set

log = logging.getLogger(__name__)
IDLE_SECONDS = 1.0


class Engine:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.cache = VersionCache()
        self._events = asyncio.Event()
        self._timers = asyncio.Event()
        self._http = asyncio.Event()
        self._calls = InFlight("http", IN_FLIGHT, PER_HOST, self._http)
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.db.on_commit(self._on_commit)
        for name, body in (("events", self._events_loop), ("timers", self._timers_loop), ("http", self._http_loop)):
            self._tasks.append(asyncio.create_task(self._forever(name, body), name=f"frontdesk-engine-{name}"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._calls.cancel()

    def _on_commit(self, topics: set[str]) -> None:
        if self._loop is None:
            return
        for topic, flag in (("events", self._events), ("timers", self._timers), ("http", self._http)):
            if topic in topics:
                self._loop.call_soon_threadsafe(flag.set)

    async def _forever(self, name: str, body: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await body()
            except asyncio.CancelledError:
                raise
            except Exception:  # keep the engine alive; the failing batch is retried
                log.exception("engine loop failed", extra={"loop": name})
                await asyncio.sleep(IDLE_SECONDS)

    @staticmethod
    async def _sleep(flag: asyncio.Event, seconds: float) -> None:
        await sleep_until_set(flag, seconds)

    async def _events_loop(self) -> None:
        self._events.clear()
        cache = self.cache
        processed = await self.db.write(lambda c: process_events(c, cache, now()))
        if processed == 0:
            await self._sleep(self._events, IDLE_SECONDS)

    async def _timers_loop(self) -> None:
        self._timers.clear()
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
            return
        due = await self.db.read(
            lambda c: min(filter(None, (next_due(c), next_reply_due(c), next_relax(c))), default=None)
        )
        wait = IDLE_SECONDS if due is None else min(IDLE_SECONDS, (due - now()).total_seconds())
        await self._sleep(self._timers, wait)

    async def _http_loop(self) -> None:
        self._http.clear()
        budget = self._calls.budget()
        calls = await self.db.write(lambda c: claim_calls(c, now(), budget)) if budget.free > 0 else []
        for call in calls:
            self._calls.launch(call["host"], self._call(call))
        if not calls or budget.free <= 0:  # nothing more to claim now: a commit or a landing wakes us
            await self._sleep(self._http, IDLE_SECONDS)

    async def _call(self, call: dict[str, Any]) -> None:
        result = await perform(call, self.settings.http_allow_private)
        cache = self.cache
        await self.db.write(lambda c: record_result(c, cache, call, result, now()))
