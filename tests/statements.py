"""Count the statements a Database's writer sends to its driver, by the code that issued them.

On SQLite, sqlite3's trace callback sees every statement (SQLAlchemy's and the store's own, BEGIN
and COMMIT too). On PostgreSQL, a psycopg cursor class counts what the cursors run (the store's
`driver.execute` and SQLAlchemy's statements both go through the connection's `cursor_factory`),
and SQLAlchemy's `begin`/`commit` events the transaction's two statements psycopg sends itself.
Each statement is charged to its *origin*: the store function that ran it (`sql.messages.add_inbound`)
and the first caller above the store (`actions.ingest.receive_inbound`). Used by
`python -m bench.cpu --statements` and tests/engine/test_new_conversation_writes.py.
"""

from __future__ import annotations

import collections
import re
import sys
from collections.abc import Iterator
from types import FrameType
from typing import Any

import psycopg
from sqlalchemy import Connection, event

from frontdesk.store.database import Database

_SKIPPED = ("/frontdesk/store/rows.py", "/frontdesk/store/dialects/", "/frontdesk/store/database.py")


def _origin(frame: FrameType | None) -> str:
    """`store function ← caller` for the innermost Frontdesk frames above the driver."""
    store = caller = None
    while frame is not None and caller is None:
        path = frame.f_code.co_filename
        if "/frontdesk/" in path and not any(part in path for part in _SKIPPED):
            name = path.rsplit("/frontdesk/", 1)[1].removesuffix(".py").replace("/", ".")
            where = f"{name.removeprefix('store.')}.{frame.f_code.co_name}"
            if "/frontdesk/store/" in path and store is None:
                store = where
            elif "/frontdesk/store/" not in path:
                caller = where
        frame = frame.f_back
    if store is None:
        return caller or "store.database (the writer)"
    return f"{store} ← {caller}" if caller else store


def shape(sql: str) -> str:
    """A statement's text without its literals, one line, at most 110 characters."""
    text = re.sub(r"\s+", " ", sql).strip()
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\b\d+\b", "N", text)
    return text.replace("%s", "?")[:110]


class Statements:
    """`with Statements(db) as seen:` counts what `db`'s writer runs inside the block."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.seen: collections.Counter[tuple[str, str]] = collections.Counter()  # (origin, shape)

    def total(self) -> int:
        return sum(self.seen.values())

    def by_origin(self) -> collections.Counter[str]:
        found: collections.Counter[str] = collections.Counter()
        for (origin, _), count in self.seen.items():
            found[origin] += count
        return found

    def _record(self, sql: str) -> None:
        self.seen[(_origin(sys._getframe(2)), shape(sql))] += 1

    def __enter__(self) -> Statements:
        self.db.write_sync(self._attach)
        return self

    def __exit__(self, *_: object) -> None:
        self.db.write_sync(self._detach)

    def _attach(self, conn: Connection) -> None:
        driver = conn.connection.dbapi_connection
        if self.db.is_sqlite:
            driver.set_trace_callback(lambda sql: self._record(sql))  # type: ignore[union-attr]
            return
        record = self._record

        class Counted(psycopg.Cursor[Any]):
            def execute(self, query: Any, params: Any = None, **kwargs: Any) -> Any:
                record(str(query))
                return super().execute(query, params, **kwargs)

            def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
                params = list(params_seq)
                for _ in params:  # one execution per row, as sqlite3's trace sees them (psycopg
                    record(str(query))  # pipelines them: one round trip for all)
                super().executemany(query, params, **kwargs)

        self._driver, self._factory = driver, driver.cursor_factory  # type: ignore[union-attr]
        driver.cursor_factory = Counted  # type: ignore[union-attr]
        event.listen(self.db.write_engine, "begin", self._begin)
        event.listen(self.db.write_engine, "commit", self._commit)
        event.listen(self.db.write_engine, "rollback", self._rollback)

    def _begin(self, _conn: Connection) -> None:
        self.seen[("store.database (the writer)", "BEGIN")] += 1

    def _commit(self, _conn: Connection) -> None:
        self.seen[("store.database (the writer)", "COMMIT")] += 1

    def _rollback(self, _conn: Connection) -> None:
        self.seen[("store.database (the writer)", "ROLLBACK")] += 1

    def _detach(self, conn: Connection) -> None:
        if self.db.is_sqlite:
            conn.connection.dbapi_connection.set_trace_callback(None)  # type: ignore[union-attr]
            return
        self._driver.cursor_factory = self._factory
        event.remove(self.db.write_engine, "begin", self._begin)
        event.remove(self.db.write_engine, "commit", self._commit)
        event.remove(self.db.write_engine, "rollback", self._rollback)

    def report(self, per: int) -> Iterator[str]:
        """Lines of the count divided by `per` (conversations): by origin, each with its statements."""
        yield f"{self.total() / per:.2f} statements per conversation"
        shapes: dict[str, list[tuple[int, str]]] = collections.defaultdict(list)
        for (origin, text), count in self.seen.items():
            shapes[origin].append((count, text))
        for origin, count in self.by_origin().most_common():
            yield f"{count / per:7.2f}  {origin}"
            for n, text in sorted(shapes[origin], reverse=True):
                yield f"{'':9}{n / per:6.2f}  {text}"
