"""The event log, API tokens, the health check and the metrics."""

from __future__ import annotations

import os
from typing import Annotated, Any, cast

import anyio.to_thread
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import JSONBody, QueryParameter

from frontdesk import metrics
from frontdesk.actions.tokens import check_expiry, create_token, revoke_token
from frontdesk.api.deps import Db
from frontdesk.api.responses import CreatedToken, Event, EventPage, Health, Token
from frontdesk.api.schemas import MAX_ID, PathId, TokenBody
from frontdesk.clock import now
from frontdesk.domain.model import Role
from frontdesk.store.sql import health
from frontdesk.store.sql.events import list_events
from frontdesk.store.sql.health import engine_lag, ping, workers_alive
from frontdesk.store.sql.tokens import list_tokens


class EventController(Controller):
    path = "/api/v1/events"
    tags = ["events"]

    @get("/", opt={"role": Role.MANAGER})
    async def list_events(
        self,
        db: Db,
        after: Annotated[
            int, QueryParameter(ge=0, le=MAX_ID, description="cursor: the id of the last event already seen")
        ] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 100,
        type_: Annotated[list[str] | None, QueryParameter(name="type", description="only these event types")] = None,
    ) -> EventPage:
        """Page through the event log in commit order. Pass `next_cursor` as `after` to go on."""
        items = cast(list[Event], await db.read(lambda c: list_events(c, after, limit, type_)))
        return {"events": items, "next_cursor": items[-1]["id"] if items else after}


class TokenController(Controller):
    path = "/api/v1/tokens"
    tags = ["tokens"]

    @get("/", opt={"role": Role.ADMIN})
    async def list_tokens(self, db: Db) -> list[Token]:
        return cast(list[Token], await db.read(list_tokens))

    @post("/", opt={"role": Role.ADMIN})
    async def create(self, db: Db, data: JSONBody[TokenBody]) -> CreatedToken:
        """Create a token; the answer is the only time it is shown. It may expire: `expires_at`
        (with a time zone) or `expires_in_days`; without either it lasts until revoked."""
        expires_at = check_expiry(data.expires_at, data.expires_in_days, now())
        token = await db.write(lambda c: create_token(c, data.name, data.role, data.agent_id, expires_at))
        return {
            "token": token,
            "name": data.name,
            "role": data.role,
            "agent_id": data.agent_id,
            "expires_at": expires_at,
        }

    @delete("/{token_id:int}", opt={"role": Role.ADMIN})
    async def revoke(self, request: Request[Any, Any, Any], db: Db, token_id: PathId) -> None:
        await db.write(lambda c: revoke_token(c, token_id))
        request.app.state.authenticator.forget_token(token_id)


@get("/healthz", opt={"auth": "public"}, tags=["system"])
async def healthz(db: Db) -> Health:
    """Liveness and database reachability (a read and a write through the writer), and the engine:
    how many workers run it and how far behind it is. `status` is `ok` when this server answers;
    `engine` says whether the work it hands on is being done."""
    await db.write(ping)
    at = now()
    workers, (behind, oldest) = await db.read(lambda c: (workers_alive(c, at), engine_lag(c)))
    return {
        "status": "ok",
        "pid": os.getpid(),
        "engine": {
            "workers_alive": workers,
            "events_behind": behind,
            "oldest_event_age_seconds": 0.0 if oldest is None else max((at - oldest).total_seconds(), 0.0),
        },
    }


@get("/metrics", opt={"auth": "metrics"}, tags=["system"], media_type=metrics.CONTENT_TYPE)
async def metrics_endpoint(db: Db) -> Response[bytes]:
    """Prometheus metrics (docs/operations.md lists each), for the bearer token set in
    FRONTDESK_METRICS_TOKEN (unset: metrics are off)."""
    at = now()
    backlog = await db.read(lambda c: health.backlog(c, at))
    text = await anyio.to_thread.run_sync(metrics.exposition, backlog, at)
    return Response(text, media_type=metrics.CONTENT_TYPE)
