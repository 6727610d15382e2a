"""Several engines on one database share the event log's partitions by lease (ADR 0009): every
event is processed once, a contact's in order; a stopped engine's partitions are taken over after
its lease, a joining engine gets its share, and an owner that lost its lease while paused commits
nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, func, select

from frontdesk.actions.channels import create_channel
from frontdesk.actions.ingest import InboundMessage, receive_inbound
from frontdesk.actions.workflows import create_workflow, publish, set_enabled
from frontdesk.clock import now
from frontdesk.domain.model import SYSTEM, ChannelType
from frontdesk.domain.partitions import PARTITIONS, fair_share
from frontdesk.engine.consumer import process_owned
from frontdesk.engine.runs import VersionCache
from frontdesk.engine.service import Engine
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.sql import partitions
from frontdesk.store.tables import engine_partitions, events, messages, workflow_runs

LEASE = 1.5  # seconds: short, so that takeovers happen within a test
GREET = {
    "name": "Greet",
    "trigger": {"event": "conversation.opened"},
    "steps": [{"id": "hello", "type": "send_message", "text": "Hello"}],
}
ECHO = {
    "name": "Echo",
    "trigger": {"event": "message.received"},
    "steps": [{"id": "ack", "type": "send_message", "text": "Got it"}],
}


def _setup(conn: Connection) -> int:
    for definition in (GREET, ECHO):
        workflow_id = create_workflow(conn, definition)
        publish(conn, workflow_id, SYSTEM)
        set_enabled(conn, workflow_id, True, SYSTEM)
    return create_channel(conn, ChannelType.API, "Chat", {})[0]


def _traffic(db: Database, channel_id: int, contacts: int, rounds: int, tag: str) -> int:
    """`rounds` messages from each of `contacts` contacts, interleaved, a few per transaction."""
    for n in range(rounds):
        for first in range(0, contacts, 5):
            inbound = [
                InboundMessage(channel_id, f"{tag}{c}", f"{tag}{c}-{n}", f"message {n}")
                for c in range(first, min(first + 5, contacts))
            ]
            db.write_sync(lambda conn, batch=inbound: [receive_inbound(conn, m) for m in batch])  # type: ignore[misc]
    return contacts * rounds


def _owners(conn: Connection) -> dict[str, set[int]]:
    found: dict[str, set[int]] = {}
    for partition, owner in conn.execute(select(engine_partitions.c.partition, engine_partitions.c.owner)):
        found.setdefault(owner, set()).add(partition)
    return found


def _caught_up(conn: Connection) -> bool:
    """No partition has an event after its cursor (a quiet partition's cursor may stay behind)."""
    behind = (
        select(func.count())
        .select_from(events.join(engine_partitions, events.c.partition == engine_partitions.c.partition))
        .where(events.c.id > engine_partitions.c.position)
    )
    return conn.execute(behind).scalar() == 0


def _check_runs(conn: Connection, contacts: int, messages: int) -> None:
    """One Greet run per conversation, one Echo run per message, a contact's runs in event order."""
    found = conn.execute(
        select(workflow_runs.c.id, workflow_runs.c.contact_id, workflow_runs.c.trigger_event_id).order_by(
            workflow_runs.c.id
        )
    ).all()
    assert len(found) == contacts + messages
    assert len({trigger for _, _, trigger in found}) == len(found)  # no event started two runs
    by_contact: dict[int, list[int]] = {}
    for _, contact_id, trigger in found:
        by_contact.setdefault(contact_id, []).append(trigger)
    assert len(by_contact) == contacts
    for triggers in by_contact.values():
        assert triggers == sorted(triggers)  # a contact's events were processed in the order written


async def _until(db: Database, probe: Any, what: str, seconds: float = 30) -> float:
    started = time.monotonic()
    while not await db.read(probe):
        assert time.monotonic() - started < seconds, f"no {what} after {seconds} s"
        await asyncio.sleep(0.05)
    return time.monotonic() - started


def _shared_fairly(count: int) -> Any:
    def probe(conn: Connection) -> bool:
        owners = _owners(conn)
        held = {owner: parts for owner, parts in owners.items() if owner is not None}
        fair = all(len(p) <= fair_share(count) for p in held.values())
        return len(held) == count and fair and sum(len(p) for p in held.values()) == PARTITIONS

    return probe


@contextmanager
def _databases(db_url: str, count: int) -> Iterator[list[Database]]:
    """`count` databases over one URL: each engine has its own writer, as in its own process."""
    opened = [Database(db_url) for _ in range(count)]
    for database in opened:
        database.start()
    try:
        yield opened
    finally:
        for database in opened:
            database.close()


def _lease(settings: Settings) -> Settings:
    return settings.model_copy(update={"engine_lease_seconds": LEASE})


def test_three_engines_share_the_partitions_and_process_every_event_once_in_contact_order(
    db: Database, db_url: str, settings: Settings
) -> None:
    channel_id = db.write_sync(_setup)

    async def scenario() -> None:
        with _databases(db_url, 3) as opened:
            engines = [Engine(d, _lease(settings)) for d in opened]
            for engine in engines:
                engine.start()
            await _until(db, _shared_fairly(3), "fair share among three engines")
            sent = await asyncio.to_thread(_traffic, db, channel_id, 30, 4, "c")
            await _until(db, _caught_up, "engines caught up")
            print("partitions per engine:", sorted(len(e.partitions) for e in engines))
            for engine in engines:
                await engine.stop()
            db.read_sync(lambda c: _check_runs(c, 30, sent))

    asyncio.run(scenario())


def test_a_stopped_engines_partitions_are_taken_over_once_its_lease_ends(
    db: Database, db_url: str, settings: Settings
) -> None:
    channel_id = db.write_sync(_setup)

    async def scenario() -> None:
        with _databases(db_url, 2) as opened:
            survivor, dying = (Engine(d, _lease(settings)) for d in opened)
            survivor.start()
            dying.start()
            await _until(db, _shared_fairly(2), "fair share between two engines")
            await dying.halt()  # no release, as if its process had been killed
            halted = time.monotonic()
            sent = await asyncio.to_thread(_traffic, db, channel_id, 20, 3, "d")
            owner = survivor.owner
            await _until(db, lambda c: _owners(c).get(owner) == set(range(PARTITIONS)), "takeover")
            took = time.monotonic() - halted
            await _until(db, _caught_up, "engine caught up")
            await survivor.stop()
            db.read_sync(lambda c: _check_runs(c, 20, sent))
            print(f"partitions taken over {took:.2f} s after their engine stopped, lease {LEASE} s")

    asyncio.run(scenario())


def test_a_joining_engine_gets_a_fair_share(db: Database, db_url: str, settings: Settings) -> None:
    channel_id = db.write_sync(_setup)

    async def scenario() -> None:
        with _databases(db_url, 2) as opened:
            first, second = (Engine(d, _lease(settings)) for d in opened)
            first.start()
            await _until(db, _shared_fairly(1), "one engine holding every partition")
            sent = await asyncio.to_thread(_traffic, db, channel_id, 10, 2, "j")
            second.start()
            took = await _until(db, _shared_fairly(2), "rebalance")
            sent += await asyncio.to_thread(_traffic, db, channel_id, 10, 2, "k")
            await _until(db, _caught_up, "engines caught up")
            print(f"rebalanced in {took:.2f} s: {len(first.partitions)} + {len(second.partitions)}")
            assert len(second.partitions) > 0
            for engine in (first, second):
                await engine.stop()
            db.read_sync(lambda c: _check_runs(c, 20, sent))

    asyncio.run(scenario())


def test_an_owner_paused_past_its_lease_commits_nothing_once_another_took_over(db: Database, db_url: str) -> None:
    """Paused between batches: its next batch finds no partition. Paused inside a batch: the
    takeover waits for the writers' turn (SQLite's write lock, PostgreSQL's advisory lock, ADR
    0008), so the batch commits under the lease it held, and nothing is processed twice."""
    channel_id = db.write_sync(_setup)
    start, lease = now(), dt.timedelta(seconds=LEASE)
    later = start + 2 * lease
    cache = VersionCache()
    with _databases(db_url, 2) as (paused_db, other_db):
        assert paused_db.write_sync(lambda c: partitions.heartbeat(c, "paused", start, lease)) == tuple(
            range(PARTITIONS)
        )
        sent = _traffic(db, channel_id, 10, 2, "p")
        other_db.write_sync(lambda c: partitions.heartbeat(c, "other", later, lease))
        assert paused_db.write_sync(lambda c: process_owned(c, cache, "paused", start)) == 0
        assert db.read_sync(lambda c: c.execute(select(func.count()).select_from(workflow_runs)).scalar()) == 0

        sent += _traffic(db, channel_id, 10, 1, "q")
        for owner in ("paused", "other", "paused"):  # back, and the other gives half of them up to it
            database = paused_db if owner == "paused" else other_db
            database.write_sync(lambda c, o=owner: partitions.heartbeat(c, o, later, lease))  # type: ignore[misc]
        resumed = threading.Event()
        inside = threading.Event()

        def paused_batch(conn: Connection) -> int:
            partitions.owned(conn, "paused", later)  # the transaction's snapshot: it still owns its half
            inside.set()
            resumed.wait(10)
            return process_owned(conn, cache, "paused", later)

        outcome: dict[str, int] = {}
        batch = threading.Thread(target=lambda: outcome.update(paused=paused_db.write_sync(paused_batch)))
        batch.start()
        assert inside.wait(10)
        takeover = threading.Thread(
            target=lambda: other_db.write_sync(lambda c: partitions.heartbeat(c, "other", later + 3 * lease, lease))
        )
        takeover.start()
        takeover.join(1)  # waiting for the writers' turn
        assert takeover.is_alive()
        resumed.set()
        batch.join(10)
        takeover.join(10)
        while other_db.write_sync(lambda c: process_owned(c, cache, "other", later + 3 * lease)):
            pass
        db.read_sync(lambda c: _check_runs(c, 20, sent))
        print("paused batch read", outcome["paused"], "events")


LATER = {
    "name": "Later",
    "trigger": {"event": "conversation.opened"},
    "steps": [
        {"id": "pause", "type": "wait", "duration": "1s", "next": "hello"},
        {"id": "hello", "type": "send_message", "text": "Hello, a second later"},
    ],
}


def _setup_timers(conn: Connection) -> int:
    workflow_id = create_workflow(conn, LATER)
    publish(conn, workflow_id, SYSTEM)
    set_enabled(conn, workflow_id, True, SYSTEM)
    return create_channel(conn, ChannelType.API, "Chat", {})[0]


def _runs_done_and_greetings(conn: Connection) -> tuple[int, int]:
    done = conn.execute(select(func.count()).where(workflow_runs.c.status == "completed")).scalar()
    greetings = conn.execute(select(func.count()).where(messages.c.text == "Hello, a second later")).scalar()
    return int(done or 0), int(greetings or 0)


def test_two_engines_fire_each_due_timer_once(db: Database, db_url: str, settings: Settings) -> None:
    channel_id = db.write_sync(_setup_timers)

    async def scenario() -> None:
        with _databases(db_url, 2) as opened:
            engines = [Engine(d, _lease(settings)) for d in opened]
            for engine in engines:
                engine.start()
            await _until(db, _shared_fairly(2), "fair share between two engines")
            await asyncio.to_thread(_traffic, db, channel_id, 40, 1, "t")
            await _until(db, lambda c: _runs_done_and_greetings(c)[0] == 40, "every run past its wait")
            await asyncio.sleep(0.5)  # a timer fired twice would show by now
            for engine in engines:
                await engine.stop()
        assert db.read_sync(_runs_done_and_greetings) == (40, 40)

    asyncio.run(scenario())
