"""Named secrets' statements: the values are sealed at rest (tables.Encrypted) and leave the store
only through `secret_values`, for the HTTP call about to be made."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from frontdesk.store.tables import named_secrets


def replace_secret(conn: Connection, name: str, value: str, at: dt.datetime) -> bool:
    """Set the value of an existing secret; False when there is no secret called `name`."""
    query = update(named_secrets).where(named_secrets.c.name == name).values(value=value, updated_at=at)
    return bool(conn.execute(query).rowcount)


def insert_secret(conn: Connection, name: str, value: str, at: dt.datetime) -> None:
    conn.execute(insert(named_secrets).values(name=name, value=value, created_at=at, updated_at=at))


def delete_secret(conn: Connection, name: str) -> bool:
    """False when there was no secret called `name`."""
    return bool(conn.execute(delete(named_secrets).where(named_secrets.c.name == name)).rowcount)


def list_secrets(conn: Connection) -> list[dict[str, Any]]:
    """Names and dates only: the values never leave the store."""
    query = select(named_secrets.c.name, named_secrets.c.created_at, named_secrets.c.updated_at)
    return [dict(row) for row in conn.execute(query.order_by(named_secrets.c.name)).mappings()]


def secret_names(conn: Connection) -> frozenset[str]:
    return frozenset(conn.execute(select(named_secrets.c.name)).scalars())


def secret_values(conn: Connection, names: set[str]) -> dict[str, str]:
    """The values of `names` that are set."""
    if not names:
        return {}
    query = select(named_secrets.c.name, named_secrets.c.value).where(named_secrets.c.name.in_(names))
    return {row.name: row.value for row in conn.execute(query)}
