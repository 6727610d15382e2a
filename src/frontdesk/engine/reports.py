"""Folds the event log into the reports' rollups (ADR 0010), with the engine's discipline: the
facts, the counters and the cursor change in one writer transaction, so an event counts exactly
once across crashes and restarts.

One cursor for the whole log: the fold is a few indexed reads and writes per event, and writers
take turns (ADR 0008), so two workers running this loop alternate batches; each reads the cursor
the other moved, and neither counts an event twice. `rebuild` starts again from the log.

The daily counters are counted in the workspace's time zone. After FRONTDESK_TIME_ZONE changed, they
are counted again from the facts, not the log, a step of 1,000 conversations per batch (a single
transaction would hold the writer for minutes at 1 M): each batch's events change the days only of
the conversations already counted again, and the reports read the hourly counters until the end."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from frontdesk.domain import agent_time
from frontdesk.domain import events as ev
from frontdesk.domain.partitions import PARTITIONS
from frontdesk.domain.records import Event
from frontdesk.domain.report_days import by_day
from frontdesk.domain.reports import EVENTS, Fact, Key, Metric, apply, change, rated, totals
from frontdesk.engine.funnel import fold_steps
from frontdesk.store.database import Database
from frontdesk.store.sql import events, funnel, report_agents, report_days, reports
from frontdesk.store.wakeup import IDLE_SECONDS, WakeLoop, Wakeup

EVENT_BATCH = 1000
RECOUNT_BATCH = 1_000  # conversations per batch while the daily counters are counted again
SETTLE_SECONDS = 0.25  # at most four folds a second when the log grows slowly: not a write per commit
_EVERY_PARTITION = range(PARTITIONS)


def fold_events(conn: Connection, zone: ZoneInfo, limit: int = EVENT_BATCH, recount: int = RECOUNT_BATCH) -> int:
    """Fold up to `limit` events after the cursor into the rollups, the daily counters in `zone`
    (after a change of zone, `recount` more facts counted again first); how many events were read
    (0: none left)."""
    recounted = _recount_step(conn, zone, recount)
    batch = [event for _, event in events.after(conn, reports.position(conn), _EVERY_PARTITION, limit)]
    if not batch:
        return 0
    mine = [e for e in batch if e.type in EVENTS and e.conversation_id is not None]
    before = reports.facts(conn, {e.conversation_id for e in mine if e.conversation_id is not None})
    after: dict[int, Fact | None] = dict(before)
    for event in mine:
        cid = event.conversation_id
        assert cid is not None  # filtered above; for the type checker
        after[cid] = apply(after.get(cid), event.type, event.payload, cid, event.created_at)
    delta: Counter[Key] = Counter()
    daily: Counter[Key] = Counter()  # of the conversations the days hold (a recount reaches the others)
    for event in batch:
        if event.type == ev.CONVERSATION_RATED:
            ratings = rated(event.payload, event.created_at)
            delta.update(ratings)
            daily.update(ratings)  # a recount counts every rating at its start (_recount_step)
    changed = []
    for cid, fact in after.items():
        if fact is not None and fact != before.get(cid):
            moved = change(before.get(cid), fact)
            delta.update(moved)
            if recounted is None or cid <= recounted:
                daily.update(moved)
            changed.append(fact)
    reports.save_facts(conn, changed)
    reports.add_counts(conn, delta)
    report_days.add(conn, by_day(daily, zone))
    _fold_presence(conn, [e for e in batch if e.type in agent_time.EVENTS])
    reports.advance(conn, batch[-1].id)
    return len(batch)


def _fold_presence(conn: Connection, batch: list[Event]) -> None:
    """The agents' availability changes of a batch: each closes the interval the agent's previous
    availability held, whose seconds go to its UTC hours (domain/agent_time.py)."""
    if not batch:
        return
    before = report_agents.presences(conn, {int(e.payload["agent_id"]) for e in batch})
    latest = dict(before)
    seconds: Counter[agent_time.TimeKey] = Counter()
    for event in batch:
        agent = int(event.payload["agent_id"])
        after = agent_time.apply(latest.get(agent), event.type, event.payload, event.created_at)
        if after is not None:
            seconds.update(agent_time.change(latest.get(agent), after))
            latest[agent] = after
    report_agents.save_presences(conn, [p for agent, p in latest.items() if p != before.get(agent)])
    report_agents.add_seconds(conn, seconds)


def fold(conn: Connection, zone: ZoneInfo) -> int:
    """One pass of the loop: a batch of events into the conversation rollups and a batch of run
    steps into the workflow funnel (ADR 0011), in the same transaction; how many rows were read."""
    return fold_events(conn, zone) + fold_steps(conn)


def _recount_step(conn: Connection, zone: ZoneInfo, size: int) -> int | None:
    """Count `size` more facts into the daily counters if they are being counted again (in another
    zone than `zone`: start over). The last conversation they hold; None: all of them."""
    counted = report_days.counted(conn)
    if counted is None or counted.time_zone != str(zone):
        report_days.restart(conn, str(zone))
        # Ratings are no fact's: their days come from their hourly counters, all at once (few rows).
        report_days.add(conn, by_day(reports.counts_of(conn, Metric.CSAT), zone))
        last = 0
    elif counted.recounted_to is None:
        return None
    else:
        last = counted.recounted_to
    found = reports.facts_after(conn, last, size)
    if not found:
        report_days.recounted_to(conn, None)
        return None
    report_days.add(conn, by_day(totals(found), zone))
    report_days.recounted_to(conn, found[-1].conversation_id)
    return found[-1].conversation_id


def recounting(conn: Connection, zone: ZoneInfo) -> bool:
    """Whether the daily counters still need counting again in `zone`."""
    return not report_days.whole_in(conn, str(zone))


def rebuild(db: Database, zone: ZoneInfo, progress: Callable[[int], None] = lambda _: None) -> int:
    """Forget the rollups and fold the whole log again, a batch per transaction (the reports read
    partial figures meanwhile); how many events were read. `progress(n)` after each batch.
    The workflow funnel is rebuilt from the run steps after the events (`rebuild_funnel`)."""
    db.write_sync(reports.clear)
    total = 0
    while read := db.write_sync(lambda conn: fold_events(conn, zone)):
        total += read
        progress(total)
    return total


def rebuild_funnel(db: Database) -> int:
    """Forget the workflow funnel and fold every recorded run step again; how many were read."""
    db.write_sync(funnel.clear)
    total = 0
    while read := db.write_sync(fold_steps):
        total += read
    return total


class ReportsLoop:
    """The worker's loop: folds new events and run steps as their commits ring "events" (a run's
    steps are recorded in the engine's batches, which ring it; else the one-second poll)."""

    def __init__(self, db: Database, zone: ZoneInfo) -> None:
        self.db = db
        self.zone = zone
        self._loop = WakeLoop("reports", Wakeup(db, "events"), self._pass, settle=SETTLE_SECONDS)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> float:
        read = await self.db.write(lambda conn: fold(conn, self.zone))
        # a whole batch: more may wait (else a commit rings); a recount of the days goes on at once
        busy = read >= EVENT_BATCH or await self.db.read(lambda conn: recounting(conn, self.zone))
        return 0 if busy else IDLE_SECONDS
