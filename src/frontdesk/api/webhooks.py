"""Outgoing event webhooks (docs/webhooks.md): admins subscribe a URL to event types, read the
delivery log, replay from an event, rotate the secret and re-enable a disabled subscription."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from litestar import Controller, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import JSONBody
from pydantic import Field

from frontdesk.actions.webhooks import (
    check_url,
    create_subscription,
    delete_subscription,
    replay,
    rotate_secret,
    update_subscription,
)
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import Body, Boolean, Id, Patch, PathId
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import Role
from frontdesk.domain.webhooks import KEPT_ATTEMPTS
from frontdesk.store.database import Database
from frontdesk.store.sql import webhooks as store

Url = Annotated[str, Field(min_length=1, max_length=2000, description="http(s); a public address")]
ADMIN = {"role": Role.ADMIN}
EventTypes = Annotated[list[str], Field(min_length=1, max_length=100, description="names from GET /api/v1/events")]


class WebhookBody(Body):
    url: Url
    event_types: EventTypes


class WebhookPatch(Patch):
    never_null: ClassVar = ("url", "event_types", "enabled")

    url: Url | None = None
    event_types: EventTypes | None = None
    enabled: Boolean | None = None  # true re-enables a subscription failures disabled


class ReplayBody(Body):
    from_event_id: Id


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @get("/", opt=ADMIN)
    async def list_webhooks(self, db: Db) -> list[dict[str, Any]]:
        """Every subscription, its cursor (`position`: the last event delivered or skipped) and its
        state; never a secret."""
        return await db.read(store.list_subscriptions)

    @post("/", opt=ADMIN)
    async def create_webhook(
        self, state: State, db: Db, principal: Caller, data: JSONBody[WebhookBody]
    ) -> dict[str, Any]:
        """Subscribe `url` to `event_types`, from the next event logged on. The answer holds the
        signing `secret` (`whsec_…`) this once: keep it to verify the `webhook-signature` header."""
        url = await check_url(data.url, state.settings.http_allow_private)
        webhook_id, secret = await db.write(lambda c: create_subscription(c, url, data.event_types, principal.actor))
        return {**await _shown(db, webhook_id), "secret": secret}

    @get("/{webhook_id:int}", opt=ADMIN)
    async def get_webhook(self, db: Db, webhook_id: PathId) -> dict[str, Any]:
        return await _shown(db, webhook_id)

    @patch("/{webhook_id:int}", opt=ADMIN)
    async def update_webhook(
        self, state: State, db: Db, principal: Caller, webhook_id: PathId, data: JSONBody[WebhookPatch]
    ) -> dict[str, Any]:
        """Change the `url` or `event_types`; `enabled: true` re-enables, `false` pauses (the cursor waits)."""
        changes = data.model_dump(exclude_unset=True)
        if "url" in changes:
            changes["url"] = await check_url(changes["url"], state.settings.http_allow_private)
        await db.write(lambda c: update_subscription(c, webhook_id, changes, principal.actor))
        return await _shown(db, webhook_id)

    @delete("/{webhook_id:int}", opt=ADMIN)
    async def delete_webhook(self, db: Db, principal: Caller, webhook_id: PathId) -> None:
        await db.write(lambda c: delete_subscription(c, webhook_id, principal.actor))

    @post("/{webhook_id:int}/secret/rotate", opt=ADMIN, status_code=200)
    async def rotate_webhook_secret(self, db: Db, principal: Caller, webhook_id: PathId) -> dict[str, Any]:
        """A new `secret`, in this answer only; it signs every delivery from now on."""
        secret = await db.write(lambda c: rotate_secret(c, webhook_id, principal.actor))
        return {**await _shown(db, webhook_id), "secret": secret}

    @post("/{webhook_id:int}/replay", opt=ADMIN, status_code=200)
    async def replay_webhook(
        self, db: Db, principal: Caller, webhook_id: PathId, data: JSONBody[ReplayBody]
    ) -> dict[str, Any]:
        """Deliver again every event of the subscription's types from `from_event_id` on, in order
        (each with its same `webhook-id`): the cursor moves to just before it."""
        await db.write(lambda c: replay(c, webhook_id, data.from_event_id, principal.actor))
        return await _shown(db, webhook_id)

    @get("/{webhook_id:int}/deliveries", opt=ADMIN)
    async def list_deliveries(self, db: Db, webhook_id: PathId) -> list[dict[str, Any]]:
        """The newest attempts first (the last 200 are kept): time, event, status code or error,
        latency, the first kilobyte of the answer."""
        await _shown(db, webhook_id)
        return await db.read(lambda c: store.deliveries(c, webhook_id, KEPT_ATTEMPTS))


async def _shown(db: Database, webhook_id: int) -> dict[str, Any]:
    found = await db.read(lambda c: store.subscription(c, webhook_id))
    if found is None:
        raise NotFound("webhook", webhook_id)
    return found
