"""Builds the Litestar application: auth guard, the API's controllers and the web pages, templates,
CSRF, OpenAPI. It sits above both api/ and web/ (neither imports the other's routes); what it runs
over (the database, the feeds, the engine or the worker process) comes from frontdesk.server."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from frontdesk import __version__, metrics
from frontdesk.api import errors, openapi, uploads
from frontdesk.api.allow import allow_every_method
from frontdesk.api.attachments import attachment_content
from frontdesk.api.auth import guard
from frontdesk.api.channels import ChannelController
from frontdesk.api.contacts import ContactController, ContactFieldController
from frontdesk.api.conversations import ConversationController
from frontdesk.api.deps import database, principal
from frontdesk.api.funnel import FunnelController
from frontdesk.api.meta import meta_verify, meta_webhook
from frontdesk.api.people import AgentController, TeamController
from frontdesk.api.reports import ReportController
from frontdesk.api.requests import FrontdeskRequest
from frontdesk.api.secrets import SecretController
from frontdesk.api.system import EventController, TokenController, healthz, metrics_endpoint
from frontdesk.api.telegram import telegram_webhook
from frontdesk.api.twilio import twilio_webhook
from frontdesk.api.webchat import WebchatController, widget_demo
from frontdesk.api.webhooks import WebhookController
from frontdesk.api.whatsapp import whatsapp_verify, whatsapp_webhook
from frontdesk.api.workflows import RunController, WorkflowController, incoming_webhook
from frontdesk.settings import Settings
from frontdesk.web import bidi
from frontdesk.web.admin import ADMIN_PAGES
from frontdesk.web.csat import SurveyPages
from frontdesk.web.funnel import FunnelPages
from frontdesk.web.pages import InboxController, LoginController
from frontdesk.web.pages_workflows import RunPages, WorkflowPages
from frontdesk.web.reports import ReportPages

WEB = Path(__file__).resolve().parent / "web"
Lifespan = Callable[[Litestar], AbstractAsyncContextManager[None]]


def build_app(settings: Settings, state: dict[str, Any], lifespan: Lifespan, *, csrf_secret: str) -> Litestar:
    """The routes and their configuration; `state` holds what the composition root
    (frontdesk.server) built for them: the database, the feeds, the authenticator..."""
    app = Litestar(
        route_handlers=[
            ContactController,
            ContactFieldController,
            ConversationController,
            attachment_content,
            AgentController,
            TeamController,
            ChannelController,
            EventController,
            TokenController,
            SecretController,
            WebhookController,
            ReportController,
            FunnelController,
            WorkflowController,
            RunController,
            incoming_webhook,
            healthz,
            metrics_endpoint,
            LoginController,
            InboxController,
            WebchatController,
            whatsapp_verify,
            whatsapp_webhook,
            telegram_webhook,
            twilio_webhook,
            meta_verify,
            meta_webhook,
            widget_demo,
            WorkflowPages,
            ReportPages,
            SurveyPages,
            FunnelPages,
            RunPages,
            *ADMIN_PAGES,
            create_static_files_router(path="/static", directories=[WEB / "static"], opt={"auth": "public"}),
        ],
        guards=[guard],
        state=State(state),
        dependencies={
            "db": Provide(database, sync_to_thread=False),
            "principal": Provide(principal, sync_to_thread=False),
        },
        exception_handlers=errors.HANDLERS,
        request_class=FrontdeskRequest,
        middleware=[metrics.RequestMetrics],  # each request's count and latency
        before_send=[allow_every_method],  # bounds the nesting of every JSON body before it is decoded
        lifespan=[lifespan],
        request_max_body_size=settings.max_body_bytes,
        logging_config=None,  # frontdesk.logs configures logging once, as JSON lines
        template_config=TemplateConfig(
            directory=WEB / "templates", engine=JinjaTemplateEngine, engine_callback=bidi.register
        ),
        csrf_config=CSRFConfig(
            secret=csrf_secret,
            cookie_name="fd_csrf",
            cookie_httponly=True,
            # Token- and signature-authenticated, no cookies. Litestar searches these patterns anywhere in the
            # path: anchored, so that no page whose path merely contains one (/admin/webhooks/…) loses its CSRF check.
            # A CSAT survey's form (/csat/…) has its signed token as its authority (web/csat.py).
            exclude=["^/api/", "^/healthz$", "^/webchat/", "^/webhooks/", "^/csat/"],
        ),
        openapi_config=OpenAPIConfig(
            title="Frontdesk API",
            version=__version__,
            path="/api/v1/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
    )
    openapi.refine(app)  # the error body, and request bodies as pydantic validates them
    uploads.allow_uploads(app, settings)
    return app
