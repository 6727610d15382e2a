"""The dialects the store's statements run on, by SQLAlchemy's name for the database.

`Database` chooses one from its URL. The PostgreSQL issue adds `postgresql.py` (the driver's
placeholders, native timestamps and JSON) and its line below; no statement in `store/sql/` changes.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url

from frontdesk.store.dialects.base import Dialect
from frontdesk.store.dialects.sqlite import SQLite

_DIALECTS: dict[str, type[Dialect]] = {SQLite.name: SQLite}


def for_url(url: str) -> Dialect:
    """The dialect for a database URL; ValueError for a database the store cannot run on yet."""
    backend = make_url(url).get_backend_name()
    found = _DIALECTS.get(backend)
    if found is None:
        raise ValueError(f"no store dialect for {backend!r} databases (supported: {', '.join(_DIALECTS)})")
    return found()
