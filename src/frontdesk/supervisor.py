"""`frontdesk serve --processes N --workers M`: N server processes accepting on one port, M engine
workers and (with M > 0) the webhook sender's worker, started, watched and stopped by this process,
which serves no request itself.

The port: this process binds N listening sockets with SO_REUSEPORT and hands one to each server.
The kernel spreads new connections evenly over the N sockets (one shared socket would leave it to
whichever event loop wakes first, and it accepts a whole burst). The sockets stay open here, so a
dead server's queued connections wait for its replacement instead of being reset, and a busy port
fails once, before any child starts.

The wakes: each child gets one end of a socket pair (frontdesk.worker's WakeLink on its side), and
the hub here relays each child's commit topics to every other child, so the engine wakes on any
server's ingest and every server's live streams on any worker's messages. A child whose end closes
(this process stopped or died) stops too.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field

from frontdesk import metrics
from frontdesk.settings import WorkerPart
from frontdesk.store.database import sleep_until_set
from frontdesk.worker import READY, READY_SECONDS, RESTART_SECONDS, read_wakes

log = logging.getLogger(__name__)
STOP_SECONDS = 10.0  # a child still running after this long is killed
BACKLOG = 2048


@dataclass(eq=False)
class Child:
    """One supervised process: `frontdesk worker` or `frontdesk server-process`, restarted when it exits."""

    kind: str
    command: list[str]
    listener: socket.socket | None = None  # a server's listening socket, kept open here
    process: subprocess.Popen[bytes] | None = None
    link: socket.socket | None = None  # this process's end of the child's wake socket pair
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None


class Hub:
    """Relays each child's commit topics to every other child; a child's READY sets its `ready`."""

    def __init__(self) -> None:
        self.children: list[Child] = []

    def spawn(self, child: Child) -> None:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        fds = [theirs.fileno()] + ([child.listener.fileno()] if child.listener is not None else [])
        with theirs:
            child.process = subprocess.Popen(
                [sys.executable, "-m", "frontdesk", *child.command, "--wake-fd", str(theirs.fileno())],
                pass_fds=fds,
                start_new_session=True,  # a terminal's Ctrl-C reaches this process only: it stops the children in order
            )
        self.detach(child)
        mine.setblocking(False)
        child.link = mine
        child.ready.clear()
        asyncio.get_running_loop().add_reader(mine.fileno(), self._receive, child)
        log.info("process started", extra={"kind": child.kind, "pid": child.process.pid})

    def detach(self, child: Child) -> None:
        """Close this end of the child's wake socket: a worker stops after its batch, a server stops."""
        link, child.link = child.link, None
        if link is not None:
            asyncio.get_running_loop().remove_reader(link.fileno())
            link.close()

    def _receive(self, child: Child) -> None:
        if child.link is None:
            return
        topics, closed = read_wakes(child.link)
        if closed:  # the child exited: the watch restarts it
            self.detach(child)
        if READY in topics:
            topics.discard(READY)
            child.ready.set()
        if topics:
            self._relay(child, " ".join(sorted(topics)).encode())

    def _relay(self, sender: Child, message: bytes) -> None:
        for child in self.children:
            if child is not sender and child.link is not None:
                with contextlib.suppress(OSError):  # full or gone: its loops poll each second
                    child.link.send(message)


def listeners(host: str, port: int, count: int) -> list[socket.socket]:
    """The servers' listening sockets on `host:port`, one each (SO_REUSEPORT). A first socket
    without SO_REUSEPORT checks that nobody holds the port: with it alone, a second `serve` of the
    same user would share the port silently instead of failing."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    with socket.create_server((host, port), family=family) as probe:
        port = probe.getsockname()[1]
    return [socket.create_server((host, port), family=family, backlog=BACKLOG, reuse_port=True) for _ in range(count)]


def run(listeners: list[socket.socket], workers: int) -> None:
    """Serve until SIGTERM/SIGINT with a server on each of `listeners` and `workers` workers (the
    database is already migrated: the children open it from the same settings, in the environment)."""
    import uvloop

    gc.freeze()  # as the servers and workers do: what start-up made is never collected (nor at exit)
    try:
        uvloop.run(_supervise(listeners, workers))
    finally:
        for sock in listeners:
            sock.close()


async def _supervise(listeners: list[socket.socket], workers: int) -> None:
    hub = Hub()
    hub.children = [Child("worker", ["worker", "--part", WorkerPart.ENGINE]) for _ in range(workers)]
    if workers:  # and the webhook sender in a worker of its own (frontdesk.worker)
        hub.children.append(Child("worker", ["worker", "--part", WorkerPart.WEBHOOKS]))
    hub.children += [
        Child("server", ["server-process", "--listen-fd", str(sock.fileno())], listener=sock) for sock in listeners
    ]
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await _start_workers(hub)
    for child in hub.children:
        if child.kind == "server":
            hub.spawn(child)
    while not stopping.is_set():
        await sleep_until_set(stopping, RESTART_SECONDS)
        for child in hub.children:
            if child.exited() and not stopping.is_set():
                log.error("process exited; starting another", extra={"kind": child.kind, "pid": _pid(child)})
                metrics.forget(_pid(child))
                hub.spawn(child)
    await _stop(hub)


async def _start_workers(hub: Hub) -> None:
    """Workers first, and servers once they run: until then new events would only queue (as ADR 0004)."""
    workers = [child for child in hub.children if child.kind == "worker"]
    for child in workers:
        hub.spawn(child)
    try:
        async with asyncio.timeout(READY_SECONDS):
            await asyncio.gather(*(child.ready.wait() for child in workers))
    except TimeoutError:
        log.error("workers not ready; serving anyway", extra={"seconds": READY_SECONDS})


async def _stop(hub: Hub) -> None:
    """Servers first (they stop taking requests and end their streams), then the workers finish their batch."""
    servers = [child for child in hub.children if child.kind == "server"]
    for child in servers:
        if child.process is not None and child.process.poll() is None:
            child.process.terminate()
    await asyncio.gather(*(_wait(child) for child in servers))
    for child in hub.children:
        hub.detach(child)
    await asyncio.gather(*(_wait(child) for child in hub.children if child.kind == "worker"))


async def _wait(child: Child) -> None:
    process = child.process
    if process is None:
        return
    try:
        await asyncio.to_thread(process.wait, STOP_SECONDS)
    except subprocess.TimeoutExpired:
        log.error("process did not stop; killing it", extra={"kind": child.kind, "pid": process.pid})
        process.kill()
        await asyncio.to_thread(process.wait)


def _pid(child: Child) -> int | None:
    return child.process.pid if child.process is not None else None
