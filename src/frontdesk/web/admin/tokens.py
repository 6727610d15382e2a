"""Admin pages: API tokens — create one (shown once, on the answer to the form, never again) and
revoke one, through the actions POST and DELETE /api/v1/tokens use."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import FormMultiDict
from litestar.response import Redirect, Template
from sqlalchemy import Connection

from frontdesk.actions.tokens import check_expiry, create_token, revoke_token
from frontdesk.api.auth import Principal
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import PathId, TokenBody
from frontdesk.clock import now
from frontdesk.domain.errors import DomainError
from frontdesk.store.sql.agents import list_agents
from frontdesk.store.sql.tokens import list_tokens
from frontdesk.web.admin.forms import checked, page, posted
from frontdesk.web.guards import ADMIN

NEW_TOKEN = {"name": "", "role": "agent", "agent_id": "", "expires_in_days": ""}


class TokenPages(Controller):
    path = "/admin/tokens"
    include_in_schema = False
    opt = ADMIN

    @get("/")
    async def index(self, db: Db, principal: Caller) -> Template:
        return await _index(db, principal, NEW_TOKEN)

    @post("/", status_code=200)
    async def create(self, request: Request[Any, Any, Any], db: Db, principal: Caller) -> Template:
        """The new token is on this answer only (not a redirect: it never lands in a URL or history)."""
        form = await posted(request)
        try:
            body = checked(TokenBody, _token_fields(form))
            expires_at = check_expiry(body.expires_at, body.expires_in_days, now())
            token = await db.write(lambda c: create_token(c, body.name, body.role, body.agent_id, expires_at))
        except DomainError as exc:
            return await _index(db, principal, _values(form), exc)
        return await _index(db, principal, NEW_TOKEN, created={"name": body.name, "token": token})

    @post("/{token_id:int}/revoke", status_code=303)
    async def revoke(
        self, request: Request[Any, Any, Any], db: Db, principal: Caller, token_id: PathId
    ) -> Response[Any]:
        await db.write(lambda c: revoke_token(c, token_id))
        request.app.state.authenticator.forget_token(token_id)
        return Redirect("/admin/tokens?revoked=1", status_code=303)


def _token_fields(form: FormMultiDict) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": form.get("name", ""), "role": form.get("role", "")}
    for key in ("agent_id", "expires_in_days"):
        if form.get(key):
            fields[key] = form[key]
    return fields


def _values(form: FormMultiDict) -> dict[str, Any]:
    return {key: form.get(key, "") for key in ("name", "role", "agent_id", "expires_in_days")}


async def _index(
    db: Db,
    principal: Principal,
    values: dict[str, Any],
    error: DomainError | None = None,
    created: dict[str, str] | None = None,
) -> Template:
    def read(conn: Connection) -> dict[str, Any]:
        return {"tokens": list_tokens(conn), "agents": list_agents(conn)}

    return page("tokens", principal, error, values=values, created=created, **await db.read(read))
