"""Builds the Litestar application: database, auth guard, controllers, OpenAPI, background workers."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from frontdesk import __version__, assignment
from frontdesk.actions.sessions import instance_secret
from frontdesk.api import errors, openapi
from frontdesk.api.allow import allow_every_method
from frontdesk.api.auth import Authenticator, guard
from frontdesk.api.channels import ChannelController
from frontdesk.api.contacts import ContactController, ContactFieldController
from frontdesk.api.conversations import ConversationController
from frontdesk.api.deps import database, principal
from frontdesk.api.people import AgentController, TeamController
from frontdesk.api.requests import FrontdeskRequest
from frontdesk.api.secrets import SecretController
from frontdesk.api.system import EventController, TokenController, healthz
from frontdesk.api.webchat import WebchatController, widget_demo
from frontdesk.api.workflows import RunController, WorkflowController, incoming_webhook
from frontdesk.channels.delivery import DeliveryWorker
from frontdesk.channels.webchat_limits import WebchatLimits
from frontdesk.channels.webchat_live import VisitorFeed
from frontdesk.clock import Clock, now
from frontdesk.engine.service import Engine
from frontdesk.settings import Settings
from frontdesk.store.database import Database
from frontdesk.store.migrate import upgrade
from frontdesk.web import bidi
from frontdesk.web.admin import ADMIN_PAGES
from frontdesk.web.live import LiveFeed
from frontdesk.web.pages import InboxController, LoginController
from frontdesk.web.pages_workflows import RunPages, WorkflowPages
from frontdesk.worker import WorkerProcess

WEB = Path(__file__).resolve().parents[1] / "web"


def _instance_secret(settings: Settings) -> str:
    db = Database(settings.database_url, secret_key=settings.secret_key)
    upgrade(db.write_engine)
    db.start()
    try:
        return db.write_sync(instance_secret)
    finally:
        db.close()


def create_app(settings: Settings | None = None, *, worker_process: bool = False, clock: Clock = now) -> Litestar:
    """`worker_process`: the engine and delivery run in a process of their own (frontdesk.worker),
    as `frontdesk serve` does; otherwise in this one (tests, embedded use). `clock`: what the
    limits against abuse read the time from (tests move it instead of sleeping)."""
    settings = settings or Settings()
    assignment.install()
    secret = _instance_secret(settings)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db = Database(settings.database_url, secret_key=settings.secret_key)
        upgrade(db.write_engine)
        db.start()
        app.state.db = db
        app.state.settings = settings
        app.state.authenticator = Authenticator(db, settings.token_cache_seconds)
        app.state.live = LiveFeed(db)
        app.state.live.start()
        app.state.visitors = VisitorFeed(db)
        app.state.visitors.start()
        worker = WorkerProcess(db) if worker_process else None
        inline = [] if worker else [DeliveryWorker(db, settings), Engine(db, settings)]
        if worker:
            await worker.start()
        for part in inline:
            part.start()
        gc.freeze()  # what start-up made lives on: full collections skip it (they paused requests ~50-90 ms)
        try:
            yield
        finally:
            await app.state.visitors.stop()
            for part in reversed(inline):
                await part.stop()
            if worker:
                await worker.stop()
            db.close()

    app = Litestar(
        route_handlers=[
            ContactController,
            ContactFieldController,
            ConversationController,
            AgentController,
            TeamController,
            ChannelController,
            EventController,
            TokenController,
            SecretController,
            WorkflowController,
            RunController,
            incoming_webhook,
            healthz,
            LoginController,
            InboxController,
            WebchatController,
            widget_demo,
            WorkflowPages,
            RunPages,
            *ADMIN_PAGES,
            create_static_files_router(path="/static", directories=[WEB / "static"], opt={"auth": "public"}),
        ],
        guards=[guard],
        state=State(
            {
                "clock": clock,
                "instance_secret": secret,
                "settings": settings,
                "webchat_limits": WebchatLimits(settings, clock),
            }
        ),
        dependencies={
            "db": Provide(database, sync_to_thread=False),
            "principal": Provide(principal, sync_to_thread=False),
        },
        exception_handlers=errors.HANDLERS,
        request_class=FrontdeskRequest,
        before_send=[allow_every_method],  # bounds the nesting of every JSON body before it is decoded
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,  # frontdesk.logs configures logging once, as JSON lines
        template_config=TemplateConfig(
            directory=WEB / "templates", engine=JinjaTemplateEngine, engine_callback=bidi.register
        ),
        csrf_config=CSRFConfig(
            secret=secret,
            cookie_name="fd_csrf",
            cookie_httponly=True,
            exclude=["/api/", "/healthz", "/webchat/"],  # token- and signature-authenticated, no cookies
        ),
        openapi_config=OpenAPIConfig(
            title="Frontdesk API",
            version=__version__,
            path="/api/v1/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
    )
    openapi.refine(app)  # the error body, and request bodies as pydantic validates them
    return app
