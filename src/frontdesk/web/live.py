"""Live updates for open inbox pages: one commit listener, many waiting Server-Sent Event streams.
Each stream carries only the events of conversations its viewer may see (store.visibility)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from litestar.response import ServerSentEventMessage
from sqlalchemy import Connection, func, select

from frontdesk.store.database import Database
from frontdesk.store.tables import events
from frontdesk.store.visibility import Viewer, seen_among

SHOWN = (
    "message.received",
    "message.sent",
    "note.added",
    "conversation.opened",
    "conversation.closed",
    "conversation.reopened",
    "conversation.assigned",
    "conversation.unassigned",
    "conversation.queued",
    "agent.availability_changed",
)
KEEPALIVE_SECONDS = 15.0


class LiveFeed:
    """Wakes every stream when the writer commits events; streams then read what is new."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._changed = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.db.on_commit(self._on_commit)

    def _on_commit(self, topics: set[str]) -> None:
        if "events" in topics and self._loop is not None:
            self._loop.call_soon_threadsafe(self._pulse)

    def _pulse(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def stream(self, viewer: Viewer) -> AsyncIterator[ServerSentEventMessage]:
        cursor = await self.db.read(lambda c: c.execute(select(func.max(events.c.id))).scalar() or 0)
        yield ServerSentEventMessage(event="ready", data=json.dumps({"cursor": cursor}))
        while True:
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(KEEPALIVE_SECONDS):
                    await changed.wait()
            found, seen = await self.db.read(lambda c, after=cursor: _after(c, after, viewer))
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
    rows = conn.execute(
        select(events.c.id, events.c.type, events.c.conversation_id, events.c.contact_id)
        .where(events.c.id > cursor)
        .order_by(events.c.id)
        .limit(500)
    ).mappings()
    found = [dict(r) for r in rows]
    named = {e["conversation_id"] for e in found if e["conversation_id"] is not None}
    return found, {None, *seen_among(conn, viewer, named)}
