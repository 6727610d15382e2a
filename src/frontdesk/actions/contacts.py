"""Contacts: find-or-create by channel identity, update name/fields/owner/tags, declare fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from frontdesk.actions.events import emit
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.contacts import FieldDefinition, check_field_key, check_field_values, normalise_tags
from frontdesk.domain.errors import Conflict, InvalidInput, NotFound
from frontdesk.domain.events import ContactChanges
from frontdesk.domain.model import Actor, FieldType
from frontdesk.domain.records import Contact
from frontdesk.store.sql import assignment, contacts


def field_definitions(conn: Connection) -> dict[str, FieldDefinition]:
    return {f.key: f for f in contacts.field_definitions(conn)}


def create_field(conn: Connection, key: str, label: str, type_: FieldType, options: list[str]) -> int:
    check_field_key(key)
    if type_ is FieldType.CHOICE and not options:
        raise InvalidInput("missing_options", "a choice field needs at least one option", "options")
    field_id = contacts.add_field(conn, key, label, type_, options, now())
    if field_id is None:
        raise Conflict("field_exists", f"contact field {key!r} already exists", "key")
    return field_id


def get_contact(conn: Connection, contact_id: int) -> Contact:
    found = contacts.get(conn, contact_id)
    if found is None:
        raise NotFound("contact", contact_id)
    return found


def find_or_create_by_identity(
    conn: Connection, channel_id: int, external_id: str, name: str | None
) -> tuple[int, bool]:
    """The contact behind (channel, external id), created on first contact: (id, created)."""
    found = contacts.by_identity(conn, channel_id, external_id)
    if found is not None:
        return found, False
    return create_by_identity(conn, channel_id, external_id, name)


def create_by_identity(conn: Connection, channel_id: int, external_id: str, name: str | None) -> tuple[int, bool]:
    """The contact for an identity just looked up and not found (ingest looks in its first read):
    (id, True); (the other's id, False) should another process have created it meanwhile."""
    contact_id = contacts.add(conn, name, now())
    if contacts.add_identity(conn, contact_id, channel_id, external_id) is None:  # another process created it first
        contacts.delete(conn, contact_id)
        winner = contacts.by_identity(conn, channel_id, external_id)
        assert winner is not None  # the identity that conflicted is there
        return winner, False
    contact_created(conn, contact_id, channel_id, external_id, name)
    return contact_id, True


def contact_created(conn: Connection, contact_id: int, channel_id: int, external_id: str, name: str | None) -> None:
    """The event of a contact created for its identity on a channel (here, or by ingest's one statement)."""
    emit(
        conn,
        ev.CONTACT_CREATED,
        {"channel_id": channel_id, "external_id": external_id, "name": name},
        contact_id=contact_id,
    )


_UNSET: Any = object()


def update_contact(
    conn: Connection,
    contact_id: int,
    actor: Actor,
    *,
    name: str | None = _UNSET,
    fields: Mapping[str, object] | None = None,
    owner_agent_id: int | None = _UNSET,
    add_tags: list[str] | None = None,
    remove_tags: list[str] | None = None,
) -> None:
    """Apply the given changes; emit one event per changed field/tag and one summary event."""
    contact = get_contact(conn, contact_id)
    clean_fields = check_field_values(fields, field_definitions(conn)) if fields else {}
    added = normalise_tags(add_tags or [], "add_tags")
    removed = normalise_tags(remove_tags or [], "remove_tags")
    if owner_agent_id not in (_UNSET, None) and not assignment.agent_exists(conn, owner_agent_id):
        raise NotFound("agent", owner_agent_id, "owner_agent_id")

    changes: dict[str, Any] = {}
    if name is not _UNSET and name != contact.name:
        changes["name"] = name
    if owner_agent_id is not _UNSET and owner_agent_id != contact.owner_agent_id:
        changes["owner_agent_id"] = owner_agent_id
    new_fields = dict(contact.fields)
    changed_fields = {}
    for key, value in clean_fields.items():
        old = new_fields.get(key)
        if old == value:
            continue
        changed_fields[key] = (old, value)
        if value is None:
            new_fields.pop(key, None)
        else:
            new_fields[key] = value
    tags = list(contact.tags)
    tags_added = [t for t in added if t not in tags]
    tags_removed = [t for t in removed if t in tags and t not in added]
    tags = [t for t in tags if t not in tags_removed] + tags_added

    values: dict[str, Any] = dict(changes)
    if changed_fields:
        values["fields"] = new_fields
    if tags_added or tags_removed:
        values["tags"] = tags
    if not values:
        return
    values["updated_at"] = now()
    contacts.change(conn, contact_id, values)
    who = actor.as_payload()
    for key, (old, new) in changed_fields.items():
        emit(
            conn,
            ev.CONTACT_FIELD_UPDATED,
            {"field": key, "old": old, "new": new, "actor": who},
            contact_id=contact_id,
        )
    for tag in tags_added:
        emit(conn, ev.CONTACT_TAG_ADDED, {"tag": tag, "actor": who}, contact_id=contact_id)
    for tag in tags_removed:
        emit(conn, ev.CONTACT_TAG_REMOVED, {"tag": tag, "actor": who}, contact_id=contact_id)
    summary: ContactChanges = {"fields": sorted(changed_fields), "tags_added": tags_added, "tags_removed": tags_removed}
    if "name" in changes:
        summary["name"] = changes["name"]
    if "owner_agent_id" in changes:
        summary["owner_agent_id"] = changes["owner_agent_id"]
    emit(conn, ev.CONTACT_UPDATED, {"changes": summary, "actor": who}, contact_id=contact_id)
