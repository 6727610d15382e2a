"""Contacts and contact field definitions."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get, patch, post
from litestar.params import JSONBody, QueryParameter

from frontdesk.actions.contacts import create_field, update_contact
from frontdesk.api.deps import Caller, Db
from frontdesk.api.schemas import MAX_ID, ContactFieldBody, ContactPatch, PathId
from frontdesk.domain.model import Role
from frontdesk.store.sql.contacts import contact_detail, list_contact_fields, list_contacts
from frontdesk.store.visibility import contacts_seen_by, when_contact_seen


class ContactController(Controller):
    path = "/api/v1/contacts"
    tags = ["contacts"]

    @get("/")
    async def list_contacts(
        self,
        db: Db,
        principal: Caller,
        q: Annotated[str | None, QueryParameter(max_length=200, description="search name, fields, external id")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: Annotated[
            int | None, QueryParameter(ge=1, le=MAX_ID, description="only contacts with a smaller id")
        ] = None,
    ) -> list[dict[str, Any]]:
        """An agent lists the contacts they may see (docs/api.md: which contacts an agent sees)."""
        return await db.read(lambda c: list_contacts(c, q, limit, before, contacts_seen_by(principal)))

    @get("/{contact_id:int}")
    async def get_contact(self, db: Db, principal: Caller, contact_id: PathId) -> dict[str, Any]:
        return await db.read(when_contact_seen(principal, contact_id, lambda c: contact_detail(c, contact_id)))

    @patch("/{contact_id:int}")
    async def update(
        self, db: Db, principal: Caller, contact_id: PathId, data: JSONBody[ContactPatch]
    ) -> dict[str, Any]:
        """Change name, owner, fields (null clears one) and tags (`add_tags`, `remove_tags`)."""
        changes: dict[str, Any] = {
            k: getattr(data, k) for k in ("name", "owner_agent_id") if k in data.model_fields_set
        }
        await db.write(
            when_contact_seen(
                principal,
                contact_id,
                lambda c: update_contact(
                    c,
                    contact_id,
                    principal.actor,
                    fields=data.fields,
                    add_tags=data.add_tags,
                    remove_tags=data.remove_tags,
                    **changes,
                ),
            )
        )
        return await db.read(lambda c: contact_detail(c, contact_id))


class ContactFieldController(Controller):
    path = "/api/v1/contact-fields"
    tags = ["contacts"]

    @get("/")
    async def list_fields(self, db: Db) -> list[dict[str, Any]]:
        return await db.read(list_contact_fields)

    @post("/", opt={"role": Role.MANAGER})
    async def create(self, db: Db, data: JSONBody[ContactFieldBody]) -> dict[str, Any]:
        await db.write(lambda c: create_field(c, data.key, data.label, data.type, data.options))
        fields = await db.read(list_contact_fields)
        return next(f for f in fields if f["key"] == data.key)
