"""The named-secret store: admins set and delete values; anyone reading gets names and dates only."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, delete, get, put
from litestar.params import JSONBody, PathParameter
from pydantic import Field

from frontdesk.actions.named_secrets import MAX_VALUE, delete_secret, set_secret
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import Body
from frontdesk.domain.model import Role
from frontdesk.store.sql.secrets import list_secrets

SecretName = Annotated[str, PathParameter(min_length=1, max_length=64, description="letters, digits, _")]


class SecretBody(Body):
    value: Annotated[str, Field(min_length=1, max_length=MAX_VALUE)]


class SecretController(Controller):
    path = "/api/v1/secrets"
    tags = ["secrets"]

    @get("/", opt={"role": Role.MANAGER})
    async def list_secrets(self, db: Db) -> list[dict[str, Any]]:
        """The names set (for `{{ secrets.NAME }}` in http_request steps) and when; never a value."""
        return await db.read(list_secrets)

    @put("/{name:str}", opt={"role": Role.ADMIN})
    async def set_secret(
        self, db: Db, principal: Caller, name: SecretName, data: JSONBody[SecretBody]
    ) -> Response[dict[str, Any]]:
        """Set or replace a secret's value (201 when new). The value is sealed and never shown again."""
        created = await db.write(lambda c: set_secret(c, name, data.value, principal.actor))
        shown = next(s for s in await db.read(list_secrets) if s["name"] == name)
        return Response(shown, status_code=201 if created else 200)

    @delete("/{name:str}", opt={"role": Role.ADMIN})
    async def delete_secret(self, db: Db, principal: Caller, name: SecretName) -> None:
        """Remove a secret; an HTTP call of a workflow that still names it fails until it is set again."""
        await db.write(lambda c: delete_secret(c, name, principal.actor))
