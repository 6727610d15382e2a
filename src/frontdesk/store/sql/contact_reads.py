"""Contacts as the API and the workflow builder read them: lists, details, the field catalogue.

Ingest and the engine find, create and change contacts on the driver cursor (ADR 0003).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, String, cast, func, or_, select

from frontdesk.domain.errors import NotFound
from frontdesk.store.sql.paging import page_size
from frontdesk.store.tables import contact_fields, contact_identities, contacts


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
