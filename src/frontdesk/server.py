"""The composition root: the one place that builds a Frontdesk server from its settings.

It opens the database (migrated once, its writer started), builds the web application around it,
and the parts that run beside the requests: the inbox's and the web chat's live feeds, the SMTP
receiver (mail comes in where requests do), and the engine, outbound delivery, the media
fetcher and the webhook sender, either in this process (tests, embedded use), in the worker
processes (`frontdesk serve`, ADR 0004: the engine's and the sender's), or in workers a supervisor
started (`serve --processes N`, frontdesk.supervisor).
Nothing below this module opens a database or starts a loop on its own.
"""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import uvicorn
from litestar import Litestar

from frontdesk import assignment, metrics
from frontdesk.actions.sessions import instance_secret
from frontdesk.api.auth import Authenticator
from frontdesk.application import build_app
from frontdesk.channels.webchat_limits import WebchatLimits
from frontdesk.channels.webchat_live import VisitorFeed
from frontdesk.clock import Clock, now
from frontdesk.settings import Settings
from frontdesk.smtp_receiver import SmtpReceiver
from frontdesk.store.database import Database
from frontdesk.store.media import media_store
from frontdesk.store.migrate import open_migrated
from frontdesk.store.notify import CommitListener
from frontdesk.web.live import LiveFeed
from frontdesk.worker import Loop, WakeLink, WorkerProcess, loops

STOP_BOUND_SECONDS = 5  # the safety net: streams end at once on a stop, a request still running gets this long


class Background:
    """What runs beside the requests, started and stopped with the application."""

    def __init__(
        self, db: Database, settings: Settings, *, workers: Sequence[WorkerProcess], wake: socket.socket | None
    ) -> None:
        self.live = LiveFeed(db)
        self.visitors = VisitorFeed(db)
        self.heard = CommitListener(db)  # other processes' commits, on PostgreSQL
        self.workers = workers
        self.wake = wake
        self.link = WakeLink(db, on_closed=_stop_this_process) if wake is not None else None
        # Mail is taken in where requests are: every server process listens (SO_REUSEPORT), and the
        # parse and the ingest's writes are not the engine's process's to carry (docs/benchmarks.md,
        # scenario 8).
        self.smtp = SmtpReceiver(db, settings)
        self.inline: list[Loop] = [] if self.workers or self.link else loops(db, settings)

    async def start(self) -> None:
        self.heard.start()
        self.live.start()
        self.visitors.start()
        if self.link is not None and self.wake is not None:
            self.link.connect(self.wake)
        await asyncio.gather(*(worker.start() for worker in self.workers))
        for part in self.inline:
            part.start()
        self.smtp.start()

    async def stop(self) -> None:
        await self.visitors.stop()
        await self.smtp.stop()
        for part in self.inline:  # what takes mail in first (frontdesk.worker.loops)
            await part.stop()
        await asyncio.gather(*(worker.stop() for worker in self.workers))
        if self.link is not None:
            self.link.close()
        await self.heard.stop()

    def end_streams(self) -> None:
        """The server is stopping: the live streams and long polls end now instead of holding the stop."""
        self.live.end_streams()
        self.visitors.end_streams()


def _stop_this_process() -> None:
    """The supervisor's end of the wake socket closed (it stopped or died): stop as if told to."""
    os.kill(os.getpid(), signal.SIGTERM)


def create_app(
    settings: Settings | None = None,
    *,
    workers: Sequence[WorkerProcess] = (),
    clock: Clock = now,
    db: Database | None = None,
    wake: socket.socket | None = None,
) -> Litestar:
    """The application over `db` (opened here when None), which it closes when it stops.
    `workers`: the engine, delivery and the webhook sender run in those processes of their own
    (frontdesk.worker), as `frontdesk serve` does; otherwise in this one. `wake`: a supervisor's wake socket
    (frontdesk.supervisor): the loops run in the workers it started, and the commits of every
    process are relayed over it. `clock`: what the limits against abuse read the time from (tests
    move it instead of sleeping)."""
    settings = settings or Settings()
    assignment.install()
    db = db or open_migrated(settings.database_url, settings.secret_key)
    metrics.watch(db)
    background = Background(db, settings, workers=workers, wake=wake)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db.start()  # again, if an earlier run of the application closed it
        await background.start()
        gc.freeze()  # what start-up made lives on: full collections skip it (they paused requests ~50-90 ms)
        try:
            yield
        finally:
            await background.stop()
            db.close()

    secret = db.write_sync(instance_secret)
    state = {
        "clock": clock,
        "db": db,
        "settings": settings,
        "instance_secret": secret,
        "authenticator": Authenticator(db, settings.token_cache_seconds),
        "live": background.live,
        "visitors": background.visitors,
        "webchat_limits": WebchatLimits(settings, clock),
        "media": media_store(settings),
    }
    app = build_app(settings, state, lifespan, csrf_secret=secret)
    app.state.end_streams = background.end_streams
    return app


class _Uvicorn(uvicorn.Server):
    """uvicorn, ending the live streams the moment it begins to stop: its stop waits for every open
    connection, and an inbox's stream or a web chat's long poll would hold it until the bound."""

    def __init__(self, config: uvicorn.Config, end_streams: Callable[[], None]) -> None:
        super().__init__(config)
        self.end_streams = end_streams

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.end_streams()
        await super().shutdown(sockets)


def _uvicorn(app: Litestar, settings: Settings) -> _Uvicorn:
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=STOP_BOUND_SECONDS,
    )
    return _Uvicorn(config, app.state.end_streams)


def serve(settings: Settings, db: Database, workers: Sequence[WorkerProcess]) -> None:
    """`frontdesk serve`: the application over `db` on uvicorn, with its `workers` (WorkerProcess.launch),
    until interrupted."""
    app = create_app(settings, workers=workers, db=db)
    _uvicorn(app, settings).run()


def serve_on(settings: Settings, listener: socket.socket, wake: socket.socket) -> None:
    """One of `serve --processes N`'s servers (frontdesk.supervisor): the application on the
    supervisor's `listener`, its commits relayed over `wake` to the other servers and the workers."""
    db = Database(settings.database_url, secret_key=settings.secret_key)  # the supervisor migrated it
    db.start()
    app = create_app(settings, db=db, wake=wake)
    _uvicorn(app, settings).run(sockets=[listener])
