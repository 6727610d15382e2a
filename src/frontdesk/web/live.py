"""Live updates for open inbox pages: one commit listener, many waiting Server-Sent Event streams.
Each stream carries only the events of conversations its viewer may see (store.visibility)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from litestar.response import ServerSentEventMessage
from sqlalchemy import Connection

from frontdesk.domain import events as ev
from frontdesk.store.database import Database, sleep_until_set
from frontdesk.store.sql.events import events_after, last_id
from frontdesk.store.visibility import Viewer, seen_among
from frontdesk.store.wakeup import Wakeup

SHOWN = (
    ev.MESSAGE_RECEIVED,
    ev.MESSAGE_SENT,
    ev.MESSAGE_DELIVERY_UPDATED,  # the thread's ticks
    ev.NOTE_ADDED,
    ev.ATTACHMENT_UPDATED,  # fetched or failed: the thread shows it
    ev.CONVERSATION_OPENED,
    ev.CONVERSATION_CLOSED,
    ev.CONVERSATION_REOPENED,
    ev.CONVERSATION_ASSIGNED,
    ev.CONVERSATION_UNASSIGNED,
    ev.CONVERSATION_QUEUED,
    ev.CONVERSATION_RATED,  # the thread lists the ratings
    ev.AGENT_AVAILABILITY_CHANGED,
)
KEEPALIVE_SECONDS = 15.0


class LiveFeed:
    """Wakes every stream when the writer commits events (store.wakeup); streams then read what is new."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.ending = False
        self._wakeup = Wakeup(db, "events")

    def start(self) -> None:
        self._wakeup.start()

    def end_streams(self) -> None:
        """The server is stopping: every stream ends now (an open one would hold the stop)."""
        self.ending = True
        self._wakeup.set()

    async def stream(self, viewer: Viewer, after: int | None = None) -> AsyncIterator[ServerSentEventMessage]:
        """`after`: the last event the page had seen when it was rendered, so what commits between
        the render and this stream (a delivery tick, a reply) still reaches it; else from now."""
        ring = self._wakeup.next_ring()  # before the first read: a commit during it is not missed
        newest = await self.db.read(last_id)
        cursor = newest if after is None else min(after, newest)
        yield ServerSentEventMessage(event="ready", data=json.dumps({"cursor": cursor}))
        behind = cursor < newest  # the page's events since its render: sent at once
        while not self.ending:
            if not behind:
                await sleep_until_set(ring, KEEPALIVE_SECONDS)
            if self.ending:
                return
            behind = False
            ring = self._wakeup.next_ring()
            found, seen = await self.db.read(partial(_after, cursor=cursor, viewer=viewer))
            if not found:
                yield ServerSentEventMessage(comment="keepalive")
                continue
            cursor = found[-1]["id"]
            shown = [e for e in found if e["type"] in SHOWN and e["conversation_id"] in seen]
            if shown:
                yield ServerSentEventMessage(event="change", id=cursor, data=json.dumps(shown, default=str))


def _after(conn: Connection, cursor: int, viewer: Viewer) -> tuple[list[dict[str, Any]], set[int | None]]:
    """The events after `cursor`, and which of their conversations the viewer may see (None
    stands for the events of no conversation, such as an agent's availability)."""
    found = events_after(conn, cursor, 500)
    named = {e["conversation_id"] for e in found if e["conversation_id"] is not None}
    return found, {None, *seen_among(conn, viewer, named)}
