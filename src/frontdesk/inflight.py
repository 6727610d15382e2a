"""Claimed calls to other servers, each running on its own: many at once, a few per destination.

Outbound delivery and http_request steps both wait on servers we do not control. Claiming a
batch and waiting for all of it let one slow receiver hold every other one up to its timeout
(issue 11). Here a loop claims only what fits — `limit` calls in all, `per_key` per destination
— launches each as a task, and claims again as each one lands; a destination at its bound is
left unclaimed (its lease untaken) so it cannot fill every slot.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Coroutine, Hashable
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Budget:
    """What one claim may take: `free` calls in all, and no destination past `per_key`.
    A snapshot: calls only land while a claim runs, so it never promises a slot that is taken."""

    def __init__(self, free: int, per_key: int, busy: Counter[Hashable]) -> None:
        self.free = free
        self.per_key = per_key
        self._busy = busy

    def full(self) -> set[Hashable]:
        """The destinations a claim may skip outright."""
        return {key for key, count in self._busy.items() if count >= self.per_key}

    def take(self, key: Hashable) -> bool:
        """Reserve a slot for a call to `key`; False when none is left for it."""
        if self.free <= 0 or self._busy[key] >= self.per_key:
            return False
        self.free -= 1
        self._busy[key] += 1
        return True


class Wake(Protocol):
    """What a landing sets: an asyncio.Event, or the bell of the claim loop (store.wakeup)."""

    def set(self) -> None: ...


class InFlight:
    """The calls running now. `wake` is set each time one lands: its claim loop has room again."""

    def __init__(self, name: str, limit: int, per_key: int, wake: Wake) -> None:
        self.name = name
        self.limit = limit
        self.per_key = per_key
        self._wake = wake
        self._busy: Counter[Hashable] = Counter()
        self._tasks: set[asyncio.Task[None]] = set()

    def budget(self) -> Budget:
        return Budget(self.limit - len(self._tasks), self.per_key, Counter(self._busy))

    def launch(self, key: Hashable, call: Coroutine[Any, Any, None]) -> None:
        self._busy[key] += 1
        task = asyncio.create_task(call, name=f"frontdesk-{self.name}")
        self._tasks.add(task)
        task.add_done_callback(lambda done: self._landed(key, done))

    async def cancel(self) -> None:
        """Stop every call; their leases expire and another claim makes them again."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _landed(self, key: Hashable, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._busy[key] -= 1
        if self._busy[key] <= 0:
            del self._busy[key]
        self._wake.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("call failed", exc_info=task.exception(), extra={"loop": self.name, "key": str(key)})
