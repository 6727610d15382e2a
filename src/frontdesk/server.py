"""The composition root: the one place that builds a Frontdesk server from its settings.

It opens the database (migrated once, its writer started), builds the web application around it,
and the parts that run beside the requests: the inbox's and the web chat's live feeds, and the
engine, outbound delivery and the media fetcher, either in this process (tests, embedded use) or in the worker
process (`frontdesk serve`, ADR 0004). Nothing below this module opens a database or starts a
loop on its own.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Protocol

from litestar import Litestar

from frontdesk import assignment
from frontdesk.actions.sessions import instance_secret
from frontdesk.api.auth import Authenticator
from frontdesk.application import build_app
from frontdesk.channels.webchat_limits import WebchatLimits
from frontdesk.channels.webchat_live import VisitorFeed
from frontdesk.clock import Clock, now
from frontdesk.delivery import DeliveryWorker
from frontdesk.engine.service import Engine
from frontdesk.media_fetcher import MediaFetcher
from frontdesk.settings import Settings
from frontdesk.store.database import Database, in_memory
from frontdesk.store.media import media_store
from frontdesk.store.migrate import open_migrated
from frontdesk.store.notify import CommitListener
from frontdesk.web.live import LiveFeed
from frontdesk.worker import WorkerProcess


class _Part(Protocol):
    def start(self) -> None: ...
    async def stop(self) -> None: ...


class Background:
    """What runs beside the requests, started and stopped with the application."""

    def __init__(self, db: Database, settings: Settings, *, worker_process: bool) -> None:
        self.live = LiveFeed(db)
        self.visitors = VisitorFeed(db)
        self.heard = CommitListener(db)  # other processes' commits, on PostgreSQL
        self.worker = WorkerProcess(db) if worker_process else None
        self.inline: list[_Part] = (
            [] if self.worker else [DeliveryWorker(db, settings), MediaFetcher(db, settings), Engine(db, settings)]
        )

    async def start(self) -> None:
        self.heard.start()
        self.live.start()
        self.visitors.start()
        if self.worker is not None:
            await self.worker.start()
        for part in self.inline:
            part.start()

    async def stop(self) -> None:
        await self.visitors.stop()
        for part in reversed(self.inline):
            await part.stop()
        if self.worker is not None:
            await self.worker.stop()
        await self.heard.stop()


def create_app(
    settings: Settings | None = None, *, worker_process: bool = False, clock: Clock = now, db: Database | None = None
) -> Litestar:
    """The application over `db` (opened here when None), which it closes when it stops.
    `worker_process`: the engine and delivery run in a process of their own (frontdesk.worker),
    as `frontdesk serve` does; otherwise in this one. `clock`: what the limits against abuse read
    the time from (tests move it instead of sleeping)."""
    settings = settings or Settings()
    assignment.install()
    db = db or open_migrated(settings.database_url, settings.secret_key)
    background = Background(db, settings, worker_process=worker_process)

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
    return build_app(settings, state, lifespan, csrf_secret=secret)


def serve(settings: Settings, db: Database) -> None:
    """`frontdesk serve`: the application over `db` on uvicorn, until interrupted."""
    import uvicorn

    worker_process = settings.worker == "process" and not in_memory(settings.database_url)
    uvicorn.run(
        create_app(settings, worker_process=worker_process, db=db),
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_config=None,
        timeout_graceful_shutdown=5,  # open live streams (inbox, web chat) would otherwise hold a stop forever
    )
