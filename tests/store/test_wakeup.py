"""The loop woken on commit: a commit that wakes its topic runs the next pass at once, other
topics do not, and a failing pass does not stop the loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from frontdesk.store.database import Database, wake
from frontdesk.store.wakeup import WakeLoop, Wakeup

LONG = 3600.0  # a pass asks to sleep this long: only a wake-up can run the next one in the test


def test_a_commit_waking_the_loops_topic_runs_its_next_pass(db: Database) -> None:
    async def scenario() -> tuple[int, int]:
        passes: list[int] = []
        second = asyncio.Event()

        async def one_pass() -> float:
            passes.append(1)
            if len(passes) == 2:
                second.set()
            return LONG

        loop = WakeLoop("test", Wakeup(db, "delivery"), one_pass)
        loop.start()
        await asyncio.sleep(0)
        await db.write(lambda c: wake(c, "events"))  # another topic: no pass
        await asyncio.sleep(0.05)
        before = len(passes)
        await db.write(lambda c: wake(c, "delivery"))
        await asyncio.wait_for(second.wait(), 10)
        await loop.stop()
        return before, len(passes)

    assert asyncio.run(scenario()) == (1, 2)


def test_a_pass_that_fails_is_tried_again(db: Database) -> None:
    async def scenario() -> int:
        attempts: list[int] = []
        recovered = asyncio.Event()

        async def one_pass() -> float:
            attempts.append(1)
            if len(attempts) == 1:
                raise RuntimeError("the database is locked")
            recovered.set()
            return LONG

        loop = WakeLoop("test", Wakeup(db, "delivery"), one_pass)
        loop.start()
        await asyncio.wait_for(recovered.wait(), 10)
        await loop.stop()
        return len(attempts)

    assert asyncio.run(scenario()) == 2


def test_every_waiter_hears_one_ring(db: Database) -> None:
    async def scenario() -> list[bool]:
        wakeup = Wakeup(db, "events")
        wakeup.start()
        rings = [wakeup.next_ring(), wakeup.next_ring()]
        await db.write(lambda c: wake(c, "events"))
        await asyncio.wait_for(asyncio.gather(*(ring.wait() for ring in rings)), 10)
        return [ring.is_set() for ring in rings] + [wakeup.next_ring().is_set()]

    assert asyncio.run(scenario()) == [True, True, False]


def test_a_loop_that_settles_takes_a_burst_of_rings_in_one_pass(db: Database) -> None:
    """Twenty commits in a row ring twenty times; a loop settling for a while runs one more pass
    for all of them, not twenty (a loop without settling runs a pass per ring it hears)."""

    async def scenario() -> int:
        passes: list[int] = []
        wakeup = Wakeup(db, "events")
        loop = WakeLoop("test", wakeup, _counting(passes), settle=0.5)
        loop.start()
        await asyncio.sleep(0.05)  # the first pass ran and rests
        for _ in range(20):
            wakeup.set()  # what a commit waking "events" does, in the loop's thread
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.7)  # the settled pass ran
        await loop.stop()
        return len(passes)

    assert asyncio.run(scenario()) == 2


def _counting(passes: list[int]) -> Callable[[], Awaitable[float]]:
    async def one_pass() -> float:
        passes.append(1)
        return LONG

    return one_pass
