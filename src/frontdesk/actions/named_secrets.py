"""Named secrets: values an admin stores once (a CRM's API key) for http_request steps to use as
`{{ secrets.NAME }}`. Write-only: sealed at rest, never returned, never recorded in a run."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from frontdesk.actions.events import emit
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import InvalidInput, NotFound
from frontdesk.domain.model import Actor
from frontdesk.domain.workflows.secret_refs import NAME
from frontdesk.store.tables import named_secrets

MAX_VALUE = 4096


def check_name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise InvalidInput(
            "invalid_secret_name",
            f"name: {name[:80]!r} is not a secret name (a letter, then letters, digits or _; at most 64)",
            "name",
        )
    return name


def check_value(value: str) -> str:
    if not 0 < len(value) <= MAX_VALUE:
        raise InvalidInput("invalid_secret_value", f"value: from 1 to {MAX_VALUE} characters", "value")
    return value


def set_secret(conn: Connection, name: str, value: str, actor: Actor) -> bool:
    """Store or replace the value of `name`; True when it is new."""
    name, value = check_name(name), check_value(value)
    at = now()
    changed = conn.execute(
        update(named_secrets).where(named_secrets.c.name == name).values(value=value, updated_at=at)
    ).rowcount
    if not changed:
        conn.execute(insert(named_secrets).values(name=name, value=value, created_at=at, updated_at=at))
    emit(conn, ev.SECRET_SET, {"name": name, "actor": actor.as_payload()})
    return not changed


def delete_secret(conn: Connection, name: str, actor: Actor) -> None:
    """Workflows that still use it fail their HTTP call ("secret ... is not set") until it is set again."""
    if not conn.execute(delete(named_secrets).where(named_secrets.c.name == check_name(name))).rowcount:
        raise NotFound("secret", name, "name")
    emit(conn, ev.SECRET_DELETED, {"name": name, "actor": actor.as_payload()})


def list_secrets(conn: Connection) -> list[dict[str, Any]]:
    """Names and dates only: the values never leave the store."""
    query = select(named_secrets.c.name, named_secrets.c.created_at, named_secrets.c.updated_at)
    return [dict(row) for row in conn.execute(query.order_by(named_secrets.c.name)).mappings()]


def secret_names(conn: Connection) -> frozenset[str]:
    return frozenset(conn.execute(select(named_secrets.c.name)).scalars())


def secret_values(conn: Connection, names: set[str]) -> dict[str, str]:
    """The values of `names` that are set (for the HTTP call about to be made, and nothing else)."""
    if not names:
        return {}
    query = select(named_secrets.c.name, named_secrets.c.value).where(named_secrets.c.name.in_(names))
    return {row.name: row.value for row in conn.execute(query)}
