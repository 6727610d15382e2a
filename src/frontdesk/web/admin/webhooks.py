"""Admin pages: outgoing event webhooks — subscribe a URL to event types (the secret shown on the
answer only, as for API tokens), read a subscription's delivery log, change it, pause or re-enable
it, replay from an event, rotate its secret, delete it; through the actions /api/v1/webhooks uses,
its body models checking the forms."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy import Connection

from frontdesk.actions.webhooks import (
    check_url,
    create_subscription,
    delete_subscription,
    replay,
    rotate_secret,
    update_subscription,
)
from frontdesk.api.auth import Principal
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import PathId
from frontdesk.api.webhooks import ReplayBody, WebhookBody
from frontdesk.domain.errors import DomainError, NotFound
from frontdesk.domain.events import EventType
from frontdesk.domain.webhooks import KEPT_ATTEMPTS
from frontdesk.store.sql import webhooks as store
from frontdesk.web.admin.forms import Saved, checked, page, posted
from frontdesk.web.guards import ADMIN

EVENT_TYPES = [str(kind) for kind in EventType]
NEW = {"url": "", "event_types": []}


class WebhookPages(Controller):
    path = "/admin/outgoing-webhooks"
    include_in_schema = False
    opt = ADMIN

    @get("/")
    async def index(self, db: Db, principal: Caller) -> Template:
        return await _index(db, principal, NEW)

    @post("/", status_code=200)
    async def create(self, request: Request[Any, Any, Any], db: Db, principal: Caller) -> Template:
        """The secret is on this answer only (not a redirect: it never lands in a URL or history)."""
        form = await posted(request)
        try:
            body = checked(WebhookBody, _fields(form))
            url = await check_url(body.url, request.app.state.settings.http_allow_private)
            hook_id, secret = await db.write(lambda c: create_subscription(c, url, body.event_types, principal.actor))
        except DomainError as exc:
            return await _index(db, principal, _fields(form), exc)
        return await _index(db, principal, NEW, created={"id": hook_id, "secret": secret})

    @get("/{webhook_id:int}")
    async def detail(self, db: Db, principal: Caller, webhook_id: PathId, saved: Saved = None) -> Template:
        return await _detail(db, principal, webhook_id, saved=saved)

    @post("/{webhook_id:int}", status_code=303)
    async def save(
        self, request: Request[Any, Any, Any], db: Db, principal: Caller, webhook_id: PathId
    ) -> Response[Any]:
        form = await posted(request)
        try:
            body = checked(WebhookBody, _fields(form))
            url = await check_url(body.url, request.app.state.settings.http_allow_private)
            changes = {"url": url, "event_types": body.event_types}
            await db.write(lambda c: update_subscription(c, webhook_id, changes, principal.actor))
        except DomainError as exc:
            return await _detail(db, principal, webhook_id, exc, values=_fields(form))
        return Redirect(f"/admin/outgoing-webhooks/{webhook_id}?saved=1", status_code=303)

    @post("/{webhook_id:int}/enabled", status_code=303)
    async def enable(
        self, request: Request[Any, Any, Any], db: Db, principal: Caller, webhook_id: PathId
    ) -> Response[Any]:
        """`enabled=true` re-enables (a fresh retry schedule), anything else pauses."""
        enabled = (await request.form()).get("enabled") == "true"
        await db.write(lambda c: update_subscription(c, webhook_id, {"enabled": enabled}, principal.actor))
        return Redirect(f"/admin/outgoing-webhooks/{webhook_id}?saved=1", status_code=303)

    @post("/{webhook_id:int}/replay", status_code=303)
    async def replay(
        self, request: Request[Any, Any, Any], db: Db, principal: Caller, webhook_id: PathId
    ) -> Response[Any]:
        try:
            body = checked(ReplayBody, {"from_event_id": (await request.form()).get("from_event_id", "")})
            await db.write(lambda c: replay(c, webhook_id, body.from_event_id, principal.actor))
        except DomainError as exc:
            return await _detail(db, principal, webhook_id, exc)
        return Redirect(f"/admin/outgoing-webhooks/{webhook_id}?saved=1", status_code=303)

    @post("/{webhook_id:int}/secret/rotate", status_code=200)
    async def rotate(self, db: Db, principal: Caller, webhook_id: PathId) -> Template:
        secret = await db.write(lambda c: rotate_secret(c, webhook_id, principal.actor))
        return await _detail(db, principal, webhook_id, created={"id": webhook_id, "secret": secret})

    @post("/{webhook_id:int}/delete", status_code=303)
    async def delete(self, db: Db, principal: Caller, webhook_id: PathId) -> Response[Any]:
        await db.write(lambda c: delete_subscription(c, webhook_id, principal.actor))
        return Redirect("/admin/outgoing-webhooks", status_code=303)


def _fields(form: FormMultiDict) -> dict[str, Any]:
    return {"url": form.get("url", ""), "event_types": form.getall("event_types", [])}


async def _index(
    db: Db,
    principal: Principal,
    values: dict[str, Any],
    error: DomainError | None = None,
    created: dict[str, Any] | None = None,
) -> Template:
    hooks = await db.read(store.list_subscriptions)
    return page("webhooks", principal, error, hooks=hooks, values=values, created=created, event_types=EVENT_TYPES)


async def _detail(
    db: Db,
    principal: Principal,
    webhook_id: int,
    error: DomainError | None = None,
    **context: Any,
) -> Template:
    def read(conn: Connection) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        return store.subscription(conn, webhook_id), store.deliveries(conn, webhook_id, KEPT_ATTEMPTS)

    hook, log = await db.read(read)
    if hook is None:
        raise NotFound("webhook", webhook_id)
    values = context.pop("values", {"url": hook["url"], "event_types": hook["event_types"]})
    return page("webhook", principal, error, hook=hook, log=log, values=values, event_types=EVENT_TYPES, **context)
