"""The dialects the store's statements run on, by SQLAlchemy's name for the database.

`Database` chooses one from its URL. No statement in `store/sql/` depends on which.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from frontdesk.store.dialects.base import Dialect
from frontdesk.store.dialects.postgresql import PostgreSQL
from frontdesk.store.dialects.sqlite import SQLite

_DIALECTS: dict[str, type[Dialect]] = {SQLite.name: SQLite, PostgreSQL.name: PostgreSQL}


def for_url(url: str) -> Dialect | None:
    """The dialect for a database URL; None for a database the store's statements cannot run on
    yet (SQLAlchemy alone still serves it: `frontdesk migrate`, say)."""
    found = _DIALECTS.get(make_url(url).get_backend_name())
    return None if found is None else found()


def known() -> list[str]:
    return list(_DIALECTS)
