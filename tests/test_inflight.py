"""Calls in flight: a destination at its bound gets no more slots, the others still do, and a
landing frees its slot and wakes the claim loop."""

from __future__ import annotations

import asyncio

from frontdesk.inflight import InFlight


def test_one_slow_destination_cannot_take_every_slot() -> None:
    async def scenario() -> tuple[list[bool], int, bool, list[bool]]:
        wake, release = asyncio.Event(), asyncio.Event()
        flights = InFlight("test", limit=4, per_key=2, wake=wake)

        async def held() -> None:
            await release.wait()

        for _ in range(2):
            flights.launch("slow", held())
        budget = flights.budget()
        taken = [budget.take("slow"), budget.take("fast"), budget.take("fast"), budget.take("other")]
        release.set()
        await asyncio.wait_for(wake.wait(), 5)
        await asyncio.sleep(0)
        after = flights.budget()
        return taken, budget.free, "slow" in budget.full(), [after.take("slow"), after.take("slow")]

    taken, free, slow_full, after = asyncio.run(scenario())

    assert taken == [False, True, True, False]  # two slots left in all, none for "slow"
    assert free == 0 and slow_full
    assert after == [True, True]  # once its calls landed, "slow" has its slots again
