"""Live delivery to web-chat visitors: after each commit, one read of the event log wakes the
streams (and long polls) of exactly the visitors who got a message."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

from frontdesk.domain import events as ev
from frontdesk.store.database import Database
from frontdesk.store.sql.events import events_after, last_id
from frontdesk.store.wakeup import IDLE_SECONDS, WakeLoop, Wakeup

MESSAGES = (ev.MESSAGE_RECEIVED, ev.MESSAGE_SENT)


class VisitorFeed:
    """Wakes the streams of the visitors who got a message: after each commit, one read of the
    event log for all of them (not one per stream), filtered by contact."""

    BATCH = 1000

    def __init__(self, db: Database) -> None:
        self.db = db
        self._watchers: dict[int, set[asyncio.Event]] = {}
        self._cursor: int | None = None  # from the newest event: streams read their own backlog
        self.ending = False
        self._loop = WakeLoop("webchat-feed", Wakeup(db, "events"), self._wake_readers)

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        await self._loop.stop()

    def end_streams(self) -> None:
        """The server is stopping: every stream and long poll ends now (one open would hold the stop)."""
        self.ending = True
        self._wake_everyone()

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

    async def _wake_readers(self) -> float:
        if not self._watchers:  # nobody to wake: no read of the log after every commit
            self._cursor = None
            return IDLE_SECONDS
        if self._cursor is None:
            self._cursor = await self.db.read(last_id)
            self._wake_everyone()  # what committed before the cursor, they read themselves
        after, limit = self._cursor, self.BATCH
        found = await self.db.read(lambda c: events_after(c, after, limit))
        for event in found:  # every id moves the cursor; only message events name a contact to wake
            self._cursor = event["id"]
            if event["type"] in MESSAGES and event["contact_id"] is not None:
                for woken in list(self._watchers.get(event["contact_id"], ())):
                    woken.set()
        return IDLE_SECONDS if len(found) < self.BATCH else 0

    def _wake_everyone(self) -> None:
        for watchers in list(self._watchers.values()):
            for woken in list(watchers):
                woken.set()
