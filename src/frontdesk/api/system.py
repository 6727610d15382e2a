"""The event log, API tokens and the health check."""

from __future__ import annotations

import os
from typing import Annotated, Any, cast

from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody, QueryParameter

from frontdesk.actions.tokens import check_expiry, create_token, revoke_token
from frontdesk.api.deps import Db
from frontdesk.api.responses import CreatedToken, Event, EventPage, Health, Token
from frontdesk.api.schemas import MAX_ID, PathId, TokenBody
from frontdesk.clock import now
from frontdesk.domain.model import Role
from frontdesk.store.sql.events import list_events
from frontdesk.store.sql.health import ping
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
    """Liveness and database reachability (a read and a write through the writer)."""
    await db.read(ping)
    await db.write(ping)
    return {"status": "ok", "pid": os.getpid()}
