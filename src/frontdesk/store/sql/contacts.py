"""Contacts, their channel identities (channel + external id: who wrote, as the channel knows
them) and the custom fields the business declared for them.

Contacts as the API and the workflow builder read them: lists, details, the field catalogue.

Ingest and the engine find, create and change contacts on the driver cursor (ADR 0003).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, String, cast, func, or_, select

from frontdesk.domain.contacts import FieldDefinition
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import FieldType
from frontdesk.domain.records import Contact
from frontdesk.store import rows
from frontdesk.store.sql.paging import page_size
from frontdesk.store.tables import contact_fields, contact_identities, contacts

_BY_IDENTITY = "SELECT contact_id FROM contact_identities WHERE channel_id = ? AND external_id = ?"
_DELETE = "DELETE FROM contacts WHERE id = ?"
_FIELD_COLUMNS = ("key", "label", "type", "options")
_FIELDS = f"SELECT {', '.join(_FIELD_COLUMNS)} FROM contact_fields ORDER BY id"


def get(conn: Connection, contact_id: int) -> Contact | None:
    """Read once per engine job (`rows.memo`), or with its conversation (`conversations.with_contact`):
    `change` and `delete` forget it, and nothing else in the store writes contacts in a job."""
    return rows.remembered(conn, _key(contact_id), lambda: _record(rows.by_id(conn, contacts, contact_id)))  # type: ignore[no-any-return]


def _key(contact_id: int) -> tuple[str, int]:
    return ("contact", contact_id)


def _record(row: Mapping[str, Any] | None) -> Contact | None:
    return None if row is None else Contact(**row)


def remember(conn: Connection, contact: Contact) -> None:
    """What `get` gives for this contact in the engine job, read along with something else."""
    rows.remember(conn, _key(contact.id), contact)


def by_identity(conn: Connection, channel_id: int, external_id: str) -> int | None:
    """The contact known on `channel_id` as `external_id`, if any."""
    found = rows.scalar(conn, _BY_IDENTITY, (channel_id, external_id))
    return None if found is None else int(found)


def add(conn: Connection, name: str | None, at: dt.datetime) -> int:
    return rows.insert(conn, contacts, new_contact(name, at))


def new_contact(name: str | None, at: dt.datetime) -> dict[str, Any]:
    """A new contact's row: no fields, no tags yet."""
    return {"name": name, "fields": {}, "tags": [], "created_at": at, "updated_at": at}


def add_identity(conn: Connection, contact_id: int, channel_id: int, external_id: str) -> int | None:
    """Link the contact to its identity on a channel; None if another contact holds it already
    (no savepoint needed: the conflicting row is simply not written)."""
    identity = {"contact_id": contact_id, "channel_id": channel_id, "external_id": external_id}
    return rows.insert_new(conn, contact_identities, identity)


def delete(conn: Connection, contact_id: int) -> None:
    rows.execute(conn, _DELETE, (contact_id,))
    rows.forget(conn, _key(contact_id))


def change(conn: Connection, contact_id: int, values: Mapping[str, Any]) -> None:
    """Write the changed columns (name, fields, tags, owner_agent_id, updated_at)."""
    rows.update_by_id(conn, contacts, contact_id, values)
    rows.forget(conn, _key(contact_id))


def field_definitions(conn: Connection) -> list[FieldDefinition]:
    """The declared custom fields, in the order they were declared."""
    decoded = (rows.decode(conn, contact_fields, _FIELD_COLUMNS, row) for row in rows.execute(conn, _FIELDS))
    return [FieldDefinition(f["key"], f["label"], FieldType(f["type"]), tuple(f["options"])) for f in decoded]


def add_field(
    conn: Connection, key: str, label: str, type_: FieldType, options: list[str], at: dt.datetime
) -> int | None:
    """Declare a custom field; None if one with this key exists."""
    values = {"key": key, "label": label, "type": type_, "options": options, "created_at": at}
    return rows.insert_new(conn, contact_fields, values)


def list_contacts(
    conn: Connection, q: str | None, limit: int, before: int | None, visible: ColumnElement[bool] | None = None
) -> list[dict[str, Any]]:
    """`visible`: the contacts the caller may see (store.visibility.contacts_seen_by)."""
    query = select(contacts).order_by(contacts.c.id.desc()).limit(page_size(limit))
    if visible is not None:
        query = query.where(visible)
    if before is not None:
        query = query.where(contacts.c.id < before)
    if q:
        pattern = f"%{q.lower()}%"
        identity = select(contact_identities.c.contact_id).where(
            func.lower(contact_identities.c.external_id).like(pattern)
        )
        query = query.where(
            or_(
                func.lower(contacts.c.name).like(pattern),
                func.lower(cast(contacts.c.fields, String)).like(pattern),
                contacts.c.id.in_(identity),
            )
        )
    return [dict(r) for r in conn.execute(query).mappings()]


def contact_row(conn: Connection, contact_id: int) -> dict[str, Any]:
    row = conn.execute(select(contacts).where(contacts.c.id == contact_id)).mappings().first()
    if row is None:
        raise NotFound("contact", contact_id)
    return dict(row)


def contact_detail(conn: Connection, contact_id: int) -> dict[str, Any]:
    """The contact with their identities (channel and external id on it)."""
    contact = contact_row(conn, contact_id)
    rows = conn.execute(
        select(contact_identities.c.channel_id, contact_identities.c.external_id).where(
            contact_identities.c.contact_id == contact_id
        )
    ).mappings()
    return {**contact, "identities": [dict(r) for r in rows]}


def contact_exists(conn: Connection, contact_id: int) -> bool:
    return conn.execute(select(contacts.c.id).where(contacts.c.id == contact_id)).first() is not None


def list_contact_fields(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(contact_fields).order_by(contact_fields.c.key)).mappings()]


def contact_field_keys(conn: Connection) -> frozenset[str]:
    return frozenset(conn.execute(select(contact_fields.c.key)).scalars())
