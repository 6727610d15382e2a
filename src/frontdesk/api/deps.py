"""Dependencies shared by the controllers: the database and the authenticated caller."""

from __future__ import annotations

from typing import Any

from litestar.connection import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from frontdesk.api.auth import Principal
from frontdesk.store.database import Database

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]


def database(state: State) -> Database:
    db: Database = state.db
    return db


def principal(request: Request[Any, Any, Any], db: Db) -> Principal:
    """The principal the guard authenticated. It names `db` only so that Litestar resolves the two
    one after the other: two independent dependencies are resolved in an anyio task group, two
    tasks per request (5% of the server's CPU under load in issue 6's profile)."""
    found: Principal = request.state.principal
    return found
