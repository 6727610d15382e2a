"""What a database must provide under the store's hand-written statements (ADR 0003).

The statements in `store/sql/` are written once, in the SQL SQLite and PostgreSQL share (`?`
placeholders, `RETURNING`, `ON CONFLICT DO NOTHING`). A `Dialect` runs them on its driver and
stores each value the way SQLAlchemy's column type stores it, so a row written on the cursor
reads the same through SQLAlchemy, and the other way round. Adding a database means adding one
subclass; no statement changes.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Protocol

import msgspec
from sqlalchemy import JSON, Boolean, Table

from frontdesk.store.tables import UTCDateTime

Row = dict[str, Any]
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


class Cursor(Protocol):
    """What a statement gives back: the DB-API cursor's part the store uses."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Dialect(ABC):
    """One database's driver calls and value encodings."""

    name: ClassVar[str]  # SQLAlchemy's dialect name, as in the database URL
    # Ends a SELECT of work to claim (due timers, HTTP calls): rows another process's transaction
    # is claiming are passed over rather than waited for, or fought over (ADR 0009).
    skip_locked: ClassVar[str]
    # Whether a WITH may hold INSERTs (PostgreSQL's data-modifying WITH; SQLite's WITH reads only):
    # `rows.insert_chain` then sends dependent inserts as one statement, one round trip.
    inserts_in_with: ClassVar[bool]
    # Whether rows can be inserted from one array per column (PostgreSQL's `unnest`): `rows.insert_many`
    # then sends any number of rows as one short statement, parsed and prepared once per connection.
    inserts_from_arrays: ClassVar[bool] = False

    def insert_from_arrays(
        self, driver: Any, table: Table, keys: tuple[str, ...], columns: list[list[Any]], returning: bool = False
    ) -> list[int]:
        """Insert rows given as one array of encoded values per column of `keys`, in the arrays'
        order (ids follow it: the events'), as one statement (`inserts_from_arrays` only); the new
        ids if `returning`, else none."""
        raise NotImplementedError(self.name)

    def __init__(self) -> None:
        self._codecs: dict[Table, Codec] = {}

    def bind(self, connection: Any) -> Any:
        """What this dialect's methods get as `driver` for a DB-API connection (made once per
        connection): the connection itself, or the connection with what the dialect keeps of it."""
        return connection

    @abstractmethod
    def execute(self, driver: Any, sql: str, params: Sequence[Any]) -> Cursor:
        """Run one statement written with `?` placeholders on the driver's connection."""

    @abstractmethod
    def execute_many(self, driver: Any, sql: str, params: list[Sequence[Any]]) -> None: ...

    @abstractmethod
    def take_writer_turn(self, driver: Any) -> None:
        """Hold, until the transaction ends, the turn that lets one writer at a time commit (ADR 0008)."""

    @abstractmethod
    def order_events(self, driver: Any) -> None:
        """Hold, until the transaction ends, the lock that makes events commit in id order (ADR
        0008). Nothing to do where one writer at a time commits (SQLite)."""

    @abstractmethod
    def encode_time(self, value: dt.datetime | None) -> Any:
        """A timestamp as the driver takes it; aware datetimes only (a naive one is ambiguous)."""

    @abstractmethod
    def decode_time(self, value: Any) -> dt.datetime | None:
        """A timestamp as the driver gives it, as an aware UTC datetime."""

    @abstractmethod
    def encode_json(self, value: Any) -> Any: ...

    @abstractmethod
    def decode_json(self, value: Any) -> Any: ...

    @abstractmethod
    def encode_bool(self, value: bool | None) -> Any: ...

    @abstractmethod
    def decode_bool(self, value: Any) -> bool | None: ...

    def codec(self, table: Table) -> Codec:
        """How `table`'s columns are written and read (made once per table)."""
        found = self._codecs.get(table)
        if found is None:
            found = self._codecs[table] = Codec(self, table)
        return found


class Codec:
    """How each column of a table is written and read, derived from its SQLAlchemy type."""

    def __init__(self, dialect: Dialect, table: Table) -> None:
        self.columns = tuple(c.name for c in table.columns)
        self.encoders: dict[str, Callable[[Any], Any]] = {}
        self.decoders: list[tuple[str, Callable[[Any], Any]]] = []
        for column in table.columns:
            pair = _pair(dialect, column.type)
            if pair is not None:
                self.encoders[column.name], decode = pair
                self.decoders.append((column.name, decode))
        self.select = f"SELECT {', '.join(quote(c) for c in self.columns)} FROM {table.name}"

    def encode(self, values: Mapping[str, Any]) -> list[Any]:
        encoders = self.encoders
        return [encoders[k](v) if k in encoders else v for k, v in values.items()]

    def decode(self, row: Sequence[Any], columns: tuple[str, ...] | None = None) -> Row:
        found = dict(zip(columns or self.columns, row, strict=True))
        for name, decode in self.decoders:
            if name in found:
                found[name] = decode(found[name])
        return found


def _pair(dialect: Dialect, kind: Any) -> tuple[Callable[[Any], Any], Callable[[Any], Any]] | None:
    if isinstance(kind, UTCDateTime):
        return dialect.encode_time, dialect.decode_time
    if isinstance(kind, JSON):
        return dialect.encode_json, dialect.decode_json
    if isinstance(kind, Boolean):
        return dialect.encode_bool, dialect.decode_bool
    return None


def quote(name: str) -> str:
    return f'"{name}"'
