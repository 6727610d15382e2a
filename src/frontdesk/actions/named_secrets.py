"""Named secrets: values an admin stores once (a CRM's API key) for http_request steps to use as
`{{ secrets.NAME }}`. Write-only: sealed at rest, never returned, never recorded in a run."""

from __future__ import annotations

from sqlalchemy import Connection

from frontdesk.actions.events import emit
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import InvalidInput, NotFound
from frontdesk.domain.model import Actor
from frontdesk.domain.workflows.secret_refs import NAME
from frontdesk.store.sql import secrets

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
    changed = secrets.replace_secret(conn, name, value, at)
    if not changed:
        secrets.insert_secret(conn, name, value, at)
    emit(conn, ev.SECRET_SET, {"name": name, "actor": actor.as_payload()})
    return not changed


def delete_secret(conn: Connection, name: str, actor: Actor) -> None:
    """Workflows that still use it fail their HTTP call ("secret ... is not set") until it is set again."""
    if not secrets.delete_secret(conn, check_name(name)):
        raise NotFound("secret", name, "name")
    emit(conn, ev.SECRET_DELETED, {"name": name, "actor": actor.as_payload()})
