"""Folds the event log into the reports' rollups (ADR 0010), with the engine's discipline: the
facts, the counters and the cursor change in one writer transaction, so an event counts exactly
once across crashes and restarts.

One cursor for the whole log: the fold is a few indexed reads and writes per event, and writers
take turns (ADR 0008), so two workers running this loop alternate batches; each reads the cursor
the other moved, and neither counts an event twice. `rebuild` starts again from the log."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from sqlalchemy import Connection

from frontdesk.domain.partitions import PARTITIONS
from frontdesk.domain.reports import EVENTS, Fact, Key, apply, change
from frontdesk.store.database import Database
from frontdesk.store.sql import events, reports
from frontdesk.store.wakeup import IDLE_SECONDS, WakeLoop, Wakeup

EVENT_BATCH = 1000
SETTLE_SECONDS = 0.25  # at most four folds a second when the log grows slowly: not a write per commit
_EVERY_PARTITION = range(PARTITIONS)


def fold_events(conn: Connection, limit: int = EVENT_BATCH) -> int:
    """Fold up to `limit` events after the cursor into the rollups; how many were read (0: none left)."""
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
    changed = []
    for cid, fact in after.items():
        if fact is not None and fact != before.get(cid):
            delta.update(change(before.get(cid), fact))
            changed.append(fact)
    reports.save_facts(conn, changed)
    reports.add_counts(conn, delta)
    reports.advance(conn, batch[-1].id)
    return len(batch)


def rebuild(db: Database, progress: Callable[[int], None] = lambda _: None) -> int:
    """Forget the rollups and fold the whole log again, a batch per transaction (the reports read
    partial figures meanwhile); how many events were read. `progress(n)` after each batch."""
    db.write_sync(reports.clear)
    total = 0
    while read := db.write_sync(fold_events):
        total += read
        progress(total)
    return total


class ReportsLoop:
    """The worker's loop: folds new events as their commits ring "events"."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._loop = WakeLoop("reports", Wakeup(db, "events"), self._pass, settle=SETTLE_SECONDS)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    async def _pass(self) -> float:
        read = await self.db.write(fold_events)
        return 0 if read == EVENT_BATCH else IDLE_SECONDS  # a whole batch: more may wait; else a commit rings
