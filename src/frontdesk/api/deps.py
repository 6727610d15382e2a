"""Dependencies shared by the controllers: the database and the authenticated caller."""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency

from frontdesk.api.auth import Principal
from frontdesk.store.database import Database

Db = NamedDependency[Database]
Caller = NamedDependency[Principal]


def database(state: State) -> Database:
    db: Database = state.db
    return db
