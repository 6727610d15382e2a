"""PostgreSQL under the store's statements: psycopg 3's cursor, and values as PostgreSQL's own
types hold them — timestamps as `timestamptz` (aware UTC datetimes both ways: each session runs
with `TimeZone=UTC`), JSON as `jsonb` (text in, parsed by psycopg on the way out with msgspec),
booleans as booleans.

PostgreSQL's text and jsonb cannot hold the NUL character, which SQLite stores and a client can
send (a message, a contact's field). Rather than fail the write, every string written replaces it
with U+FFFD, the replacement character: on the store's cursor here, and on SQLAlchemy's
statements through `Database` (`clean_parameters`, `dumps_without_nul`).

The statements are written once with `?` placeholders; psycopg wants `%s`, and a literal `%`
doubled. The translation is made once per statement text and cached. psycopg prepares a
statement on the server after its fifth run on a connection, so the hot path's statements are
parsed and planned once per connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

from psycopg.pq import ExecStatus
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql.base import PGDialect

from frontdesk.store.dialects.base import Cursor, Dialect, dumps, quote

_SQLALCHEMY = PGDialect()  # type: ignore[no-untyped-call] # to name a column's type as PostgreSQL does
_TUPLES_OK = ExecStatus.TUPLES_OK  # a statement that returns rows (a SELECT, a RETURNING)

# Transaction-level advisory locks (ADR 0008), any 64-bit numbers no one else uses: the writers'
# turn, and the lock around event inserts.
WRITER_TURN_LOCK = 0x46_44_57_52  # "FDWR"
EVENT_ORDER_LOCK = 0x46_44_45_56  # "FDEV"
_WRITER_TURN = f"SELECT pg_advisory_xact_lock({WRITER_TURN_LOCK})"
_LOCK_EVENTS = f"SELECT pg_advisory_xact_lock({EVENT_ORDER_LOCK})"


@lru_cache(maxsize=4096)
def placeholders(sql: str) -> str:
    """`?` → `%s`, `%` → `%%` (psycopg's format). Statements never hold a `?` in a literal."""
    return sql.replace("%", "%%").replace("?", "%s")


NUL = "\x00"
REPLACEMENT = "\ufffd"


def without_nul(value: Any) -> Any:
    """`value` with NUL replaced in every string of it (dict keys too)."""
    if isinstance(value, str):
        return value.replace(NUL, REPLACEMENT)
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [without_nul(v) for v in value]
    return value


def dumps_without_nul(value: Any) -> str:
    text = dumps(value)
    return dumps(without_nul(value)) if "\\u0000" in text else text


def clean_parameters(params: Any) -> Any:
    """A statement's parameters (a sequence, a mapping, or a list of either) without NUL in strings."""
    if isinstance(params, dict):
        if any(isinstance(v, str) and NUL in v for v in params.values()):
            return {k: without_nul(v) if isinstance(v, str) else v for k, v in params.items()}
        return params
    if isinstance(params, list) and params and isinstance(params[0], dict | list | tuple):
        return [clean_parameters(p) for p in params]
    for value in params:  # a loop, not any() over a generator: it runs for every statement
        if isinstance(value, str) and NUL in value:
            return [without_nul(v) if isinstance(v, str) else v for v in params]
    return params


def encode_time(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
    return value


def identity(value: Any) -> Any:
    return value


@lru_cache(maxsize=64)
def _insert_from_arrays(table: Table, keys: tuple[str, ...], returning: bool) -> str:
    """`INSERT … SELECT FROM unnest(arrays)`, the arrays sent in binary (`%b`): a short statement
    whatever the rows' number, parsed once by psycopg (which re-parses a statement of over 50
    parameters at each run: ~8 ms for 100 rows of events) and prepared once per connection, and
    no text escaping of each element (psycopg's text arrays escape in Python)."""
    columns = ", ".join(quote(key) for key in keys)
    arrays = ", ".join(f"CAST(%b AS {table.c[key].type.compile(dialect=_SQLALCHEMY)}[])" for key in keys)
    return (
        f"INSERT INTO {table.name} ({columns}) SELECT {columns}"
        f" FROM unnest({arrays}) WITH ORDINALITY AS fd_rows({columns}, fd_order) ORDER BY fd_order"
        + (" RETURNING id" if returning else "")
    )


class Rows:
    """A statement's rows, fetched at once: the cursor that ran it runs the next statement."""

    __slots__ = ("_next", "_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows, self._next, self.rowcount = rows, 0, rowcount

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rest, self._next = self._rows[self._next :], len(self._rows)
        return rest

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class Driver:
    """A psycopg connection and the one cursor the store's statements run on: psycopg's
    `Connection.execute` makes a cursor per statement, a third of its client CPU for a row by id
    (13 of 38 µs, measured on this machine). The rows come back fetched (`Rows`)."""

    __slots__ = ("_cursor", "connection")

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self._cursor: Any = None

    def cursor(self) -> Any:
        cursor = self._cursor
        if cursor is None or type(cursor) is not self.connection.cursor_factory:  # tests count on their class
            cursor = self._cursor = self.connection.cursor()
        return cursor


class PostgreSQL(Dialect):
    name = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"
    inserts_in_with = True
    inserts_from_arrays = True

    def bind(self, connection: Any) -> Driver:
        return Driver(connection)

    def execute(self, driver: Driver, sql: str, params: Sequence[Any]) -> Cursor:
        cursor = driver.cursor()
        cursor.execute(placeholders(sql), clean_parameters(params))
        result = cursor.pgresult  # not `description`, which builds a Column per column each time
        rows = cursor.fetchall() if result is not None and result.status == _TUPLES_OK else []
        return Rows(rows, cursor.rowcount)

    def execute_many(self, driver: Driver, sql: str, params: list[Sequence[Any]]) -> None:
        driver.cursor().executemany(placeholders(sql), [clean_parameters(p) for p in params])

    def insert_from_arrays(
        self, driver: Driver, table: Table, keys: tuple[str, ...], columns: list[list[Any]], returning: bool = False
    ) -> list[int]:
        cursor = driver.cursor()
        cursor.execute(_insert_from_arrays(table, keys, returning), [clean_parameters(c) for c in columns])
        return [new_id for (new_id,) in cursor.fetchall()] if returning else []

    def take_writer_turn(self, driver: Driver) -> None:
        driver.connection.execute(_WRITER_TURN)

    def order_events(self, driver: Driver) -> None:
        driver.connection.execute(_LOCK_EVENTS)

    encode_time = staticmethod(encode_time)
    decode_time = staticmethod(identity)  # timestamptz in a UTC session: aware, tzinfo is dt.UTC
    encode_json = staticmethod(dumps_without_nul)  # text, cast by the server to the column's jsonb
    decode_json = staticmethod(identity)  # psycopg parses jsonb (with `loads`, set per connection)
    encode_bool = staticmethod(identity)
    decode_bool = staticmethod(identity)
