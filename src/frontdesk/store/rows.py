"""Table rows read and written on the driver's cursor: the hot path's statements (ADR 0003).

SQLAlchemy Core spends 60-200 µs of Python on each statement it builds, compiles and wraps;
the same statement on the sqlite3 cursor costs about 8 µs. Ingest, the engine and assignment
run ~60 statements per new conversation, so they use these helpers. Values are encoded and
decoded from the same table definitions (`tables.py`) exactly as SQLAlchemy stores them —
timestamps as naive-UTC text, JSON as compact UTF-8 text (`dumps`, which SQLAlchemy's engines
use too), booleans as 0/1 — so a row written here reads the same through SQLAlchemy, and the
other way round.

The SQL is SQLite's (`?` placeholders, `RETURNING`, `ON CONFLICT DO NOTHING`); the statements
run inside the writer's transaction and savepoints like any other.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache
from typing import Any

import msgspec
from sqlalchemy import JSON, Boolean, Connection, Table

from frontdesk.store.tables import UTCDateTime

Row = dict[str, Any]
_DRIVER_KEY = "frontdesk.driver"
_MEMO_KEY = "frontdesk.memo"
_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


def dumps(value: Any) -> str:
    """JSON text as every path stores it: compact UTF-8, by msgspec (~10x json.dumps)."""
    return _encode(value).decode()


def loads(text: str | bytes) -> Any:
    try:
        return _decode(text)
    except msgspec.MsgspecError:  # NaN, Infinity, 1e400: json.dumps wrote them in older rows
        return json.loads(text)


class _LastTime(threading.local):
    value: dt.datetime | None = None
    text: str | None = None


_last_time = _LastTime()


def encode_time(value: dt.datetime | None) -> str | None:
    """As SQLAlchemy's SQLite DATETIME stores it: naive UTC, always with microseconds."""
    if value is None:
        return None
    last = _last_time
    if value is last.value:  # a job writes its one `now` into many rows
        return last.text
    utc = value
    if utc.tzinfo is not dt.UTC:
        if utc.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        utc = utc.astimezone(dt.UTC)
    text = utc.isoformat(" ", "microseconds")[:26]  # without "+00:00" (datetime.replace is slow)
    last.value, last.text = value, text
    return text


def decode_time(value: str | None) -> dt.datetime | None:
    return None if value is None else dt.datetime.fromisoformat(value + "+00:00")


def _encode_json(value: Any) -> str:
    return dumps(value)  # None too: SQLAlchemy's JSON writes it as the text 'null'


def _encode_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _decode_json(value: str | float | None) -> Any:
    # SQLite gives a JSON column numeric affinity: a top-level number comes back as a number.
    return loads(value) if isinstance(value, str) else value


def _decode_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


class _Codec:
    """How each column of a table is written and read, derived from its SQLAlchemy type."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.columns = tuple(c.name for c in table.columns)
        self.encoders: dict[str, Callable[[Any], Any]] = {}
        self.decoders: list[tuple[str, Callable[[Any], Any]]] = []
        for column in table.columns:
            kind = column.type
            if isinstance(kind, UTCDateTime):
                self.encoders[column.name] = encode_time
                self.decoders.append((column.name, decode_time))
            elif isinstance(kind, JSON):
                self.encoders[column.name] = _encode_json
                self.decoders.append((column.name, _decode_json))
            elif isinstance(kind, Boolean):
                self.encoders[column.name] = _encode_bool
                self.decoders.append((column.name, _decode_bool))
        self.select = f"SELECT {', '.join(_quote(c) for c in self.columns)} FROM {table.name}"

    def encode(self, values: Mapping[str, Any]) -> list[Any]:
        encoders = self.encoders
        return [encoders[k](v) if k in encoders else v for k, v in values.items()]

    def decode(self, row: tuple[Any, ...], columns: tuple[str, ...] | None = None) -> Row:
        found = dict(zip(columns or self.columns, row, strict=True))
        for name, decode in self.decoders:
            if name in found:
                found[name] = decode(found[name])
        return found


@cache
def _codec(table: Table) -> _Codec:
    return _Codec(table)


def _quote(name: str) -> str:
    return f'"{name}"'


def driver(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under `conn` (the same transaction)."""
    found = conn.info.get(_DRIVER_KEY)
    if found is None:
        found = conn.info[_DRIVER_KEY] = conn.connection.dbapi_connection
    return found  # type: ignore[no-any-return]


def execute(conn: Connection, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
    return driver(conn).execute(sql, tuple(params))


@contextlib.contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """Undo what the block wrote if it raises (a SAVEPOINT on the driver, nested as deep as needed)."""
    db = driver(conn)
    db.execute("SAVEPOINT fd")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK TO fd")
        db.execute("RELEASE fd")
        raise
    db.execute("RELEASE fd")


@contextlib.contextmanager
def memo(conn: Connection) -> Iterator[None]:
    """Within the block, `remembered` reads each thing once. For what the block itself never
    changes: the engine's job reads a channel or a team's id once for all its runs."""
    conn.info[_MEMO_KEY] = {}
    try:
        yield
    finally:
        conn.info.pop(_MEMO_KEY, None)


def remembered(conn: Connection, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
    """`load()`, or what it gave for `key` earlier in the same `memo` block."""
    found = conn.info.get(_MEMO_KEY)
    if found is None:
        return load()
    if key not in found:
        found[key] = load()
    return found[key]


def scalar(conn: Connection, sql: str, params: Iterable[Any] = ()) -> Any:
    row = execute(conn, sql, params).fetchone()
    return None if row is None else row[0]


@cache
def _insert_sql(table: Table, keys: tuple[str, ...], ignore: bool) -> str:
    columns = ", ".join(_quote(k) for k in keys)
    marks = ", ".join("?" * len(keys))
    conflict = " ON CONFLICT DO NOTHING" if ignore else ""
    return f"INSERT INTO {table.name} ({columns}) VALUES ({marks}){conflict} RETURNING id"


def insert(conn: Connection, table: Table, values: Mapping[str, Any]) -> int:
    """Insert one row; its id."""
    sql = _insert_sql(table, tuple(values), False)
    return int(execute(conn, sql, _codec(table).encode(values)).fetchone()[0])


def insert_new(conn: Connection, table: Table, values: Mapping[str, Any]) -> int | None:
    """Insert one row unless a unique constraint already holds its twin; its id, or None.
    (No savepoint needed: the conflicting row is simply not written.)"""
    sql = _insert_sql(table, tuple(values), True)
    row = execute(conn, sql, _codec(table).encode(values)).fetchone()
    return None if row is None else int(row[0])


def insert_many(conn: Connection, table: Table, rows: list[Mapping[str, Any]]) -> None:
    if not rows:
        return
    codec = _codec(table)
    keys = tuple(rows[0])
    sql = _insert_sql(table, keys, False).removesuffix(" RETURNING id")
    driver(conn).executemany(sql, [codec.encode(r) for r in rows])


@cache
def _update_sql(table: Table, keys: tuple[str, ...], where: str) -> str:
    return f"UPDATE {table.name} SET {', '.join(f'{_quote(k)} = ?' for k in keys)} WHERE {where}"


def update(conn: Connection, table: Table, where: str, params: Iterable[Any], values: Mapping[str, Any]) -> int:
    """`UPDATE table SET values WHERE where`; the number of rows changed."""
    sql = _update_sql(table, tuple(values), where)
    return execute(conn, sql, [*_codec(table).encode(values), *params]).rowcount


def update_by_id(conn: Connection, table: Table, row_id: int, values: Mapping[str, Any]) -> int:
    return update(conn, table, "id = ?", (row_id,), values)


def select_one(conn: Connection, table: Table, where: str, params: Iterable[Any] = ()) -> Row | None:
    """The first row of `table` (every column, decoded) matching `where`."""
    codec = _codec(table)
    row = execute(conn, f"{codec.select} WHERE {where}", params).fetchone()
    return None if row is None else codec.decode(row)


def select_all(conn: Connection, table: Table, where: str, params: Iterable[Any] = ()) -> list[Row]:
    codec = _codec(table)
    return [codec.decode(r) for r in execute(conn, f"{codec.select} WHERE {where}", params)]


def by_id(conn: Connection, table: Table, row_id: int) -> Row | None:
    return select_one(conn, table, "id = ?", (row_id,))


def value(conn: Connection, table: Table, column: str, row_id: int) -> Any:
    """One column of the row with this id, decoded (None if there is no such row)."""
    row = execute(conn, f"SELECT {_quote(column)} FROM {table.name} WHERE id = ?", (row_id,)).fetchone()
    return None if row is None else _codec(table).decode(row, (column,))[column]


def decode(table: Table, columns: tuple[str, ...], row: tuple[Any, ...]) -> Row:
    """A row of some of `table`'s columns, read by a hand-written SELECT, decoded."""
    return _codec(table).decode(row, columns)
