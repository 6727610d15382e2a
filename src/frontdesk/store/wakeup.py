"""The loop woken on commit, written once: wait for a commit that woke a topic, or the safety poll,
run one pass, again, until stopped.

The writer tells listeners which topics each batch woke (`store.database.wake`), and the worker
link relays the other process's (frontdesk.worker). A wake-up can come from the writer thread at
any moment, so a loop takes the bell's next ring *before* its pass: a commit during the pass ends
the wait that follows at once. The one-second poll picks up what no wake-up announced (another
server on the same database, a lost datagram) and due times.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable

from frontdesk.store.database import Database, sleep_until_set

log = logging.getLogger(__name__)
IDLE_SECONDS = 1.0  # the safety poll; also how long a loop rests after a failed pass

Pass = Callable[[], Awaitable[float]]  # one pass; returns how long the loop may sleep (0: go on)


class Wakeup:
    """A bell rung by every commit that woke one of `topics`, and by `set()` (a call that
    landed); any number of waiters hear each ring."""

    def __init__(self, db: Database, *topics: str) -> None:
        self.db = db
        self.topics = frozenset(topics)
        self._next = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Listen to the database's commits, from the running event loop's thread."""
        self._loop = asyncio.get_running_loop()
        self.db.on_commit(self._on_commit)

    def set(self) -> None:
        """Wake every waiter now, as `asyncio.Event.set` would (in the event loop's thread)."""
        rung, self._next = self._next, asyncio.Event()
        rung.set()

    def next_ring(self) -> asyncio.Event:
        """The event the next ring sets: take it before a pass, wait for it after."""
        return self._next

    def _on_commit(self, topics: Iterable[str]) -> None:  # in the writer thread
        if self._loop is not None and not self.topics.isdisjoint(topics):
            self._loop.call_soon_threadsafe(self.set)


class WakeLoop:
    """A background task running `one_pass` each time its bell rings or the time it asked for ends."""

    def __init__(self, name: str, wakeup: Wakeup, one_pass: Pass, settle: float = 0.0) -> None:
        self.name = name
        self.wakeup = wakeup
        self.one_pass = one_pass
        self.settle = settle  # a pass that rests starts at least this long after the last one began
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.wakeup.start()
        self._task = asyncio.create_task(self._run(), name=f"frontdesk-{self.name}")

    async def stop(self) -> None:
        """Cancel the pass under way; what it claimed is claimed again once its lease ends."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            ring = self.wakeup.next_ring()
            began = loop.time()
            try:
                pause = await self.one_pass()
            except Exception:  # keep the loop alive; the failed pass is tried again
                log.exception("loop pass failed", extra={"loop": self.name})
                await asyncio.sleep(IDLE_SECONDS)  # not woken early: a failing pass must not spin on commits
                continue
            if pause > 0:
                await sleep_until_set(ring, pause)
                # Coalesce: under load a commit rings every few milliseconds; the commits that ring
                # meanwhile are taken by the next pass together, not by a pass each.
                rest = began + min(self.settle, pause) - loop.time()
                if rest > 0:
                    await asyncio.sleep(rest)


def until(due_in: float | None) -> float:
    """How long to sleep for something due in `due_in` seconds (None: nothing due): never past the poll."""
    return IDLE_SECONDS if due_in is None else min(IDLE_SECONDS, due_in)
