"""Dependencies shared by the controllers."""

from __future__ import annotations

from litestar.datastructures import State

from frontdesk.store.database import Database


def database(state: State) -> Database:
    db: Database = state.db
    return db
