"""Contacts and contact field definitions."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, patch, post
from litestar.params import Parameter

from frontdesk.actions.contacts import create_field, update_contact
from frontdesk.api.auth import Principal
from frontdesk.api.schemas import ContactFieldBody, ContactPatch
from frontdesk.domain.model import Role
from frontdesk.store import queries
from frontdesk.store.database import Database


class ContactController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts"]

    @get("/")
    async def list_contacts(
        self,
        db: Database,
        q: str | None = Parameter(
            default=None, max_length=200, description="search name, fields, external id"
        ),
        limit: int = Parameter(default=50, ge=1, le=200),
        before: int | None = Parameter(default=None, description="only contacts with a smaller id"),
    ) -> list[dict[str, Any]]:
        return await db.read(lambda c: queries.list_contacts(c, q, limit, before))

    @get("/{contact_id:int}")
    async def get_contact(self, db: Database, contact_id: int) -> dict[str, Any]:
        return await db.read(lambda c: queries.contact_detail(c, contact_id))

    @patch("/{contact_id:int}")
    async def update(
        self, db: Database, principal: Principal, contact_id: int, data: ContactPatch
    ) -> dict[str, Any]:
        """Change name, owner, fields (null clears one) and tags (`add_tags`, `remove_tags`)."""
        changes: dict[str, Any] = {
            k: getattr(data, k) for k in ("name", "owner_agent_id") if k in data.model_fields_set
        }
        await db.write(
            lambda c: update_contact(
                c,
                contact_id,
                principal.actor,
                fields=data.fields,
                add_tags=data.add_tags,
                remove_tags=data.remove_tags,
                **changes,
            )
        )
        return await db.read(lambda c: queries.contact_detail(c, contact_id))


class ContactFieldController(Controller):
    path = "/api/v1/contact-fields"
    tags = ["contacts"]

    @get("/")
    async def list_fields(self, db: Database) -> list[dict[str, Any]]:
        return await db.read(queries.list_contact_fields)

    @post("/", opt={"role": Role.MANAGER})
    async def create(self, db: Database, data: ContactFieldBody) -> dict[str, Any]:
        await db.write(lambda c: create_field(c, data.key, data.label, data.type, data.options))
        fields = await db.read(queries.list_contact_fields)
        return next(f for f in fields if f["key"] == data.key)
