"""The worker process: the workflow engine, outbound delivery, the media fetcher, the e-mail
channels' IMAP mailboxes, outgoing event webhooks and the reports' rollups (`loops`), beside the
web server (ADR 0004). The SMTP receiver, a front door like HTTP, runs in the server processes.

One Python process runs one thread at a time (the GIL). Under load the web server's requests
and the engine's runs took turns on one core while the other stayed idle, so `frontdesk serve`
starts `python -m frontdesk worker` and the two share:

- the database file: their writers take turns (store.database), each committing its own batches;
- a socket pair, on which each says which topics its commits woke ("events", "delivery",
  "timers", "http"), so the engine wakes on the server's new events and the inbox's and web
  chat's live streams wake on what the engine wrote.

Nothing in the log depends on which process wrote it: the engine's cursor moves in the same
transaction as its effects (ADR 0002), so even two engines at once would not process an event
twice. The server restarts a worker that died; a worker whose server is gone stops.

`frontdesk serve` starts two: one with the engine and the other loops (`--part engine`), and one
that sends outgoing event webhooks (`--part webhooks`). A loop's Python holds the GIL, and a writer
thread waiting for it holds the database's write lock meanwhile: S1 is bound by that lock, and the
sender beside the engine (or beside the requests) made every batch of that process hold it longer
(docs/benchmarks.md, scenario 9). In a process of its own, the sender's work costs the others only
its own short writes.

`frontdesk worker` also runs on its own (another machine, no server), every loop in one process
unless `--part` says otherwise: no wake socket then, and it stops on SIGTERM/SIGINT. Its loops
wake on whatever announces commits to `Database.announce` (a wake link here; a PostgreSQL listener
may be another), and else on their one-second poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from typing import Protocol

from frontdesk import metrics
from frontdesk.settings import Settings
from frontdesk.settings import WorkerPart as Part
from frontdesk.store.database import Database, in_memory
from frontdesk.store.notify import CommitListener
from frontdesk.store.wakeup import WakeLoop, Wakeup

log = logging.getLogger(__name__)
RESTART_SECONDS = 1.0
READY_SECONDS = 60.0
READY = "ready"  # not a commit topic: the worker's first word, once its loops run


def read_wakes(sock: socket.socket) -> tuple[set[str], bool]:
    """The topics (READY among them) of every message waiting on a non-blocking wake socket, and
    whether the other end is closed."""
    topics: set[str] = set()
    while True:
        try:
            data = sock.recv(4096)
        except BlockingIOError:
            return topics, False
        except OSError:
            data = b""
        if not data:
            return topics, True
        topics.update(data.decode().split())


class WakeLink:
    """Relays the topics of each process's commits to the other, over a SOCK_SEQPACKET pair (on
    SQLite; on PostgreSQL NOTIFY carries them, store.notify, and the pair says ready and closed)."""

    def __init__(self, db: Database, on_closed: Callable[[], None] | None = None) -> None:
        self.db = db
        self.on_closed = on_closed
        self.ready = asyncio.Event()
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        if db.is_sqlite:  # on PostgreSQL every process hears every commit by NOTIFY (store.notify)
            db.on_commit(self._forward)

    def connect(self, sock: socket.socket) -> None:
        """Relay over `sock` from now on (a restarted worker gets a new pair)."""
        self.close()
        self._loop = asyncio.get_running_loop()
        sock.setblocking(False)
        self._sock = sock
        self._loop.add_reader(sock.fileno(), self._receive)

    def say_ready(self) -> None:
        if self._sock is not None:
            self._sock.send(READY.encode())

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            if self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()

    def _forward(self, topics: set[str]) -> None:  # in the writer thread, after a commit
        sock = self._sock
        if sock is None:
            return
        with contextlib.suppress(OSError):  # full (the peer is behind) or gone: its loops poll each second
            sock.send(" ".join(sorted(topics)).encode())

    def _receive(self) -> None:
        if self._sock is None:
            return
        topics, closed = read_wakes(self._sock)
        if closed:  # the other process closed its end: it stopped or died
            self.close()
            if self.on_closed is not None:
                self.on_closed()
        if READY in topics:
            topics.discard(READY)
            self.ready.set()
        if topics:
            self.db.announce(topics, skip=self._forward)


class WorkerProcess:
    """The server's side: starts the worker, relays wakes, restarts the worker if it dies."""

    def __init__(self, db: Database, part: Part) -> None:
        self.part = part
        self.link = WakeLink(db)
        self.process: subprocess.Popen[bytes] | None = None
        self._watch = WakeLoop("worker-watch", Wakeup(db), self._restart_if_exited)  # no topic: polls only
        self._unlinked: socket.socket | None = None

    @classmethod
    def launch(cls, settings: Settings, db: Database) -> list[WorkerProcess]:
        """The workers of `frontdesk serve` (the engine's, the webhook sender's), started at once
        (before the demo is loaded and the web application imported, so that the start-ups
        overlap), or none when the loops run in the server (`FRONTDESK_WORKER=inline`, or an
        in-memory database)."""
        if settings.worker != "process" or in_memory(settings.database_url):
            return []
        workers = [cls(db, Part.ENGINE), cls(db, Part.WEBHOOKS)]
        for worker in workers:
            worker._unlinked = worker._launch()  # linked by `start`, in the server's event loop
        return workers

    async def start(self) -> None:
        """Start the worker (unless `launch` did) and wait until its loops run: until then new
        events would only queue. A worker that exits first or is not ready in time is left to the
        watch, which restarts it. What it says before the link exists waits in the socket."""
        unlinked, self._unlinked = self._unlinked, None
        if unlinked is None:
            self._spawn()
        else:
            self.link.connect(unlinked)
        deadline = asyncio.get_running_loop().time() + READY_SECONDS
        while not self.link.ready.is_set():
            if self.process is not None and self.process.poll() is not None:
                log.error(
                    "worker process exited while starting",
                    extra={"part": self.part, "returncode": self.process.returncode},
                )
                break
            if asyncio.get_running_loop().time() > deadline:
                log.error(
                    "worker process not ready; serving anyway", extra={"part": self.part, "seconds": READY_SECONDS}
                )
                break
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.1):
                    await self.link.ready.wait()
        self._watch.start()

    async def stop(self) -> None:
        await self._watch.stop()
        self.link.close()  # the worker sees its socket close and stops after its current batch
        process = self.process
        if process is not None:
            try:
                await asyncio.to_thread(process.wait, 10)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait)

    def _spawn(self) -> None:
        self.link.connect(self._launch())  # the worker's loops start with what the server wrote meanwhile

    def _launch(self) -> socket.socket:
        """A new worker process; this side's end of its wake socket."""
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.link.ready.clear()
        with theirs:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "frontdesk", "worker", "--part", self.part, "--wake-fd", str(theirs.fileno())],
                pass_fds=[theirs.fileno()],
                start_new_session=True,  # a terminal's Ctrl-C reaches the server only; it stops the worker
            )
        return mine

    async def _restart_if_exited(self) -> float:
        if self.process is not None and self.process.poll() is not None:
            log.error(
                "worker process exited; starting another",
                extra={"part": self.part, "returncode": self.process.returncode},
            )
            self._spawn()
        return RESTART_SECONDS


class Loop(Protocol):
    def start(self) -> None: ...
    async def stop(self) -> None: ...


def loops(db: Database, settings: Settings, part: Part = Part.ALL) -> list[Loop]:
    """What a worker runs beside the requests, in the order it starts and stops them: what takes mail
    in first (the IMAP mailboxes of e-mail channels), then the engine, outbound delivery, the media
    fetcher and outgoing event webhooks (docs/webhooks.md) and the reports' rollups (unless
    FRONTDESK_REPORTS_ROLLUPS=false); of those, the sender alone (`part` WEBHOOKS) or all but it
    (ENGINE). The server runs them all itself with `FRONTDESK_WORKER=inline`.

    Each part imports only its own loops: a sender's process starts without the engine's modules."""
    from frontdesk.engine.webhooks import WebhookSender

    sender: list[Loop] = [WebhookSender(db, settings)] if part != Part.ENGINE else []
    if part == Part.WEBHOOKS:
        return sender
    from frontdesk import assignment
    from frontdesk.delivery import DeliveryWorker
    from frontdesk.engine.reports import ReportsLoop
    from frontdesk.engine.service import Engine
    from frontdesk.imap_poller import ImapPoller
    from frontdesk.media_fetcher import MediaFetcher

    assignment.install()  # the engine's actions reach the queues through it (actions.assignments)
    found: list[Loop] = [
        ImapPoller(db, settings),
        Engine(db, settings),
        DeliveryWorker(db, settings),
        MediaFetcher(db, settings),
        *sender,
    ]
    if settings.reports_rollups:  # the reports' rollups (ADR 0010); off: they wait for `reports rebuild`
        found.append(ReportsLoop(db, settings.time_zone))
    return found


def run(settings: Settings, wake_fd: int | None, part: Part = Part.ALL) -> None:
    """`frontdesk worker`: the `part`'s loops until SIGTERM/SIGINT, or until the other end of
    `wake_fd` (its server's or supervisor's) closes."""
    import uvloop

    uvloop.run(_serve(settings, None if wake_fd is None else socket.socket(fileno=wake_fd), part))


def _open(settings: Settings, sock: socket.socket | None) -> Database:
    """A worker on its own migrates, as a server would (PostgreSQL lets one process at a time do it);
    one started by a server or a supervisor gets the database already migrated."""
    if sock is None:
        from frontdesk.store.migrate import open_migrated

        return open_migrated(settings.database_url, settings.secret_key)
    db = Database(settings.database_url, secret_key=settings.secret_key)
    db.start()
    return db


async def _serve(settings: Settings, sock: socket.socket | None, part: Part) -> None:
    db = _open(settings, sock)
    metrics.watch(db)
    stopping = asyncio.Event()
    link = WakeLink(db, on_closed=stopping.set)
    if sock is not None:
        link.connect(sock)
    heard = CommitListener(db)  # other processes' commits, on PostgreSQL
    heard.start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    running = loops(db, settings, part)
    for each in running:
        each.start()
    gc.freeze()  # as the server does: full collections skip what start-up made
    log.info("worker started", extra={"pid": os.getpid(), "part": part, "wake_link": sock is not None})
    link.say_ready()
    try:
        await stopping.wait()
    finally:
        for each in running:
            await each.stop()
        await heard.stop()
        link.close()
        db.close()
