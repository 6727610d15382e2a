"""Wake-ups between processes on PostgreSQL, by LISTEN/NOTIFY: every process sharing the database
hears every other's commits, on this machine or another.

The writer sends its batch's topics (`store.database.wake`) with `pg_notify` inside the committing
transaction, so they are delivered only if it commits, and only once it is visible. A listener (one
autocommit connection per process, in a thread of its own) hands the topics other processes sent
to `Database.announce`, as the socket pair of one `serve` does on SQLite (frontdesk.worker). A
notification lost while the listener reconnects costs at most the loops' one-second poll.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import select
import threading
from typing import TYPE_CHECKING

import psycopg
from sqlalchemy import Connection
from sqlalchemy.engine import make_url

from frontdesk.store import rows

if TYPE_CHECKING:
    from frontdesk.store.database import Database

log = logging.getLogger(__name__)
CHANNEL = "frontdesk"
APPLICATION = "frontdesk-notify"  # the listener's application_name in pg_stat_activity
RECONNECT_SECONDS = 1.0


def new_sender() -> str:
    """An id for one Database's notifications, unique across processes and machines."""
    return secrets.token_hex(8)


def send(conn: Connection, sender: str, topics: set[str]) -> None:
    """In the writer's transaction: tell the other processes, once it commits, what it woke."""
    rows.execute(conn, "SELECT pg_notify(?, ?)", (CHANNEL, " ".join([sender, *sorted(topics)])))


class CommitListener:
    """Hears the other processes' commits and announces their topics in this one (PostgreSQL only:
    on SQLite, `start` does nothing)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._stopping = threading.Event()
        self._bell: tuple[int, int] | None = None  # a pipe: `stop` ends the thread's wait at once
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.db.is_sqlite or self._thread is not None:
            return
        self._stopping.clear()
        self._bell = os.pipe()
        self._thread = threading.Thread(target=self._run, args=(self._bell[0],), name=APPLICATION, daemon=True)
        self._thread.start()

    async def stop(self) -> None:
        await asyncio.to_thread(self.stop_sync)

    def stop_sync(self) -> None:
        thread, self._thread = self._thread, None
        if thread is None or self._bell is None:
            return
        self._stopping.set()
        os.write(self._bell[1], b"x")
        thread.join()
        for fd in self._bell:
            os.close(fd)
        self._bell = None

    def _run(self, bell: int) -> None:
        while not self._stopping.is_set():
            try:
                self._listen(bell)
            except psycopg.Error as exc:
                log.warning("commit listener lost its connection; reconnecting", extra={"error": str(exc)})
            except Exception:  # a listener of this process failed: keep hearing, the poll covers the gap
                log.exception("commit listener failed; reconnecting")
            self._stopping.wait(RECONNECT_SECONDS)

    def _listen(self, bell: int) -> None:
        conninfo = _conninfo(self.db.url)
        with psycopg.connect(conninfo, autocommit=True, application_name=APPLICATION, connect_timeout=10) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            log.info("listening to other processes' commits")
            waiting = select.poll()  # not select(): a busy server's descriptors go past 1024
            waiting.register(conn.fileno(), select.POLLIN)
            waiting.register(bell, select.POLLIN)
            while True:
                if any(fd == bell for fd, _ in waiting.poll()):
                    return
                for notice in conn.notifies(timeout=0):  # what arrived; raises if the connection is gone
                    self._heard(notice.payload)

    def _heard(self, payload: str) -> None:
        sender, *topics = payload.split()
        if sender != self.db.sender and topics:
            self.db.announce(set(topics))


def _conninfo(url: str) -> str:
    """psycopg's form of the SQLAlchemy URL (`postgresql+psycopg://…` → `postgresql://…`)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
