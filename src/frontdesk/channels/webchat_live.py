"""Live delivery to web-chat visitors: after each commit, one read of the event log wakes the
streams (and long polls) of exactly the visitors who got a message."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from functools import partial

from sqlalchemy import Connection, func, select

from frontdesk.domain import events as ev
from frontdesk.store.database import Database, sleep_until_set
from frontdesk.store.tables import events

log = logging.getLogger(__name__)


class VisitorFeed:
    """Wakes the streams of the visitors who got a message: after each commit, one read of the
    event log for all of them (not one per stream), filtered by contact."""

    IDLE_SECONDS = 1.0  # also picks up what another process wrote
    BATCH = 1000

    def __init__(self, db: Database) -> None:
        self.db = db
        self._watchers: dict[int, set[asyncio.Event]] = {}
        self._committed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.db.on_commit(self._on_commit)
        self._task = asyncio.create_task(self._run(), name="frontdesk-webchat-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    @contextlib.contextmanager
    def watch(self, contact_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever the contact gets a message; clear it before reading."""
        woken = asyncio.Event()
        self._watchers.setdefault(contact_id, set()).add(woken)
        try:
            yield woken
        finally:
            watchers = self._watchers.get(contact_id, set())
            watchers.discard(woken)
            if not watchers:
                self._watchers.pop(contact_id, None)

    def _on_commit(self, topics: set[str]) -> None:
        if "events" in topics and self._loop is not None:
            self._loop.call_soon_threadsafe(self._committed.set)

    async def _run(self) -> None:
        cursor: int | None = None  # from the newest event: streams read their own backlog
        while True:
            self._committed.clear()  # before the read: a commit during it is not missed
            if not self._watchers:  # nobody to wake: no read of the log after every commit
                cursor = None
                await sleep_until_set(self._committed, self.IDLE_SECONDS)
                continue
            try:
                if cursor is None:
                    cursor = await self.db.read(_last_event_id)
                    self._wake_everyone()  # what committed before the cursor, they read themselves
                rows = await self.db.read(partial(_message_events, after=cursor, limit=self.BATCH))
            except Exception:
                log.exception("webchat feed: reading the event log failed", extra={"cursor": cursor})
                rows = []
            for event_id, contact_id in rows:
                cursor = event_id
                if contact_id is None:
                    continue
                for woken in list(self._watchers.get(contact_id, ())):
                    woken.set()
            if len(rows) < self.BATCH:
                await sleep_until_set(self._committed, self.IDLE_SECONDS)

    def _wake_everyone(self) -> None:
        for watchers in list(self._watchers.values()):
            for woken in list(watchers):
                woken.set()


def _last_event_id(conn: Connection) -> int:
    return int(conn.execute(select(func.max(events.c.id))).scalar() or 0)


def _message_events(conn: Connection, after: int, limit: int) -> list[tuple[int, int | None]]:
    query = (
        select(events.c.id, events.c.contact_id, events.c.type)
        .where(events.c.id > after)
        .order_by(events.c.id)
        .limit(limit)
    )
    kinds = (ev.MESSAGE_RECEIVED, ev.MESSAGE_SENT)
    # Every id moves the cursor; only message events name a contact to wake.
    return [(r.id, r.contact_id if r.type in kinds else None) for r in conn.execute(query)]
