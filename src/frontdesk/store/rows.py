"""Table rows read and written on the driver's cursor: the primitives of the hot path (ADR 0003).

SQLAlchemy Core spends 60-200 µs of Python on each statement it builds, compiles and wraps;
the same statement on the sqlite3 cursor costs about 8 µs. Ingest, the engine and assignment
ran ~60 statements per new conversation (14 since issue 14: docs/scaling.md), so the store's
functions (`store/sql/`) run theirs through these helpers. Each connection carries the `Dialect`
its `Database` chose: it runs the statements on the driver and encodes and decodes values from
the same table definitions (`tables.py`) exactly as SQLAlchemy stores them, so a row written here
reads the same through SQLAlchemy, and the other way round. The statements run inside the
writer's transaction and savepoints like any other.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import Connection, Engine, Table, event

from frontdesk.store import dialects
from frontdesk.store.dialects.base import Cursor, Dialect, Row, loads, quote

# `loads`: the JSON text of SQLite's rows, for decoders cached by that text (store.sql.assignment).
__all__ = ["Row", "loads"]

_SESSION_KEY = "frontdesk.session"
_MEMO_KEY = "frontdesk.memo"
_DEFERRED_KEY = ("frontdesk.deferred",)  # in the memo: the writes `write_later`, `update_later`, `insert_later` keep


@dataclass(frozen=True, slots=True)
class _Session:
    driver: Any  # the DB-API connection under SQLAlchemy's, as the dialect binds it
    dialect: Dialect


def attach(engine: Engine, dialect: Dialect) -> None:
    """Give every connection of `engine` the dialect its statements run with (`Database` does)."""

    @event.listens_for(engine, "connect")
    def _attach(dbapi_connection: Any, record: Any) -> None:
        record.info[_SESSION_KEY] = _Session(dialect.bind(dbapi_connection), dialect)

    @event.listens_for(engine, "before_cursor_execute")
    def _sqlalchemy_s(conn: Connection, cursor: Any, statement: str, *args: Any) -> None:
        _deferred_first(conn, statement)  # SQLAlchemy's statements too read no row behind a deferred write


def _session(conn: Connection) -> _Session:
    try:
        return conn.info[_SESSION_KEY]  # type: ignore[no-any-return]
    except KeyError:
        raise RuntimeError(
            f"no store dialect on this {conn.dialect.name} connection: the store runs on"
            f" {', '.join(dialects.known())}, through store.database.Database"
        ) from None


def dialect(conn: Connection) -> Dialect:
    """How `conn`'s database stores values: for a statement's own parameters and results."""
    return _session(conn).dialect


def execute(
    conn: Connection, sql: str, params: Iterable[Any] = (), *, one_row: tuple[Table, int] | None = None
) -> Cursor:
    """Run one statement written with `?` placeholders, in `conn`'s transaction. `one_row`: of
    that table, the statement reads that row alone (by id), so the writes a `memo` block deferred
    to other rows of it may keep waiting."""
    return _run(conn, _session(conn), sql, tuple(params), one_row)


def _run(
    conn: Connection, session: _Session, sql: str, params: Sequence[Any], one_row: tuple[Table, int] | None = None
) -> Cursor:
    """Every statement of the store goes through here: the writes a `memo` block deferred to a
    table it names run first, so no statement ever reads (or conditions on) a row behind them."""
    _deferred_first(conn, sql, one_row)
    return session.dialect.execute(session.driver, sql, params)


def execute_many(conn: Connection, sql: str, params: Sequence[Sequence[Any]]) -> None:
    """Run one statement written with `?` placeholders once per parameter row, in `conn`'s transaction."""
    if params:
        session = _session(conn)
        _deferred_first(conn, sql)
        session.dialect.execute_many(session.driver, sql, list(params))


def take_writer_turn(conn: Connection) -> None:
    """Wait until no other process's writer is inside a transaction, then hold the turn until
    this transaction ends (PostgreSQL; SQLite's writers take turns on a lock file, ADR 0004)."""
    session = _session(conn)
    session.dialect.take_writer_turn(session.driver)


def order_events(conn: Connection) -> None:
    """Make `conn`'s transaction the only one inserting events until it ends (events.py, ADR 0008)."""
    session = _session(conn)
    session.dialect.order_events(session.driver)


@contextlib.contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """Undo what the block wrote if it raises (a SAVEPOINT on the driver, nested as deep as needed)."""
    session = _session(conn)
    run, driver = session.dialect.execute, session.driver
    write_deferred(conn)  # before the savepoint: its rollback forgets the memo, and what waits in it
    run(driver, "SAVEPOINT fd", ())
    try:
        yield
    except BaseException:
        run(driver, "ROLLBACK TO fd", ())
        run(driver, "RELEASE fd", ())
        forgotten = conn.info.get(_MEMO_KEY)
        if forgotten:  # what the block remembered may be what it undid (a team's rotation)
            forgotten.clear()
        raise
    run(driver, "RELEASE fd", ())


@contextlib.contextmanager
def memo(conn: Connection) -> Iterator[None]:
    """Within the block, `remembered` reads each thing once. For what the block itself never
    changes (the engine's job reads a channel or a team's id once for all its runs), or what the
    function that remembers it also writes (`revise`, `forget`: a conversation)."""
    conn.info[_MEMO_KEY] = {}
    try:
        yield
        write_deferred(conn)
    finally:
        conn.info.pop(_MEMO_KEY, None)


def memo_open(conn: Connection) -> bool:
    """Whether a `memo` block is open: what is read ahead for it would be kept."""
    return _MEMO_KEY in conn.info


def write_later(conn: Connection, table: Table, key: tuple[Any, ...], sql: str, params: Sequence[Any]) -> None:
    """Within a `memo` block, run this write to `table` when the block ends, a later write for the
    same `key` replacing it: a row written once per conversation (a team's rotation) costs one
    statement per block. It runs sooner when a statement naming `table` is about to run (`_run`),
    and before a savepoint begins. Outside a block, now. A savepoint rolled back forgets the writes
    deferred inside it with the rest of the memo, as it undoes what they would have written; the
    writes deferred before it ran when it began."""
    deferred = _deferred(conn)
    if deferred is None:
        execute(conn, sql, params)
        return
    deferred.add(key, _Later(table.name, sql, tuple(params)), None)


def update_later(conn: Connection, table: Table, row_id: int, values: Mapping[str, Any]) -> None:
    """`update_by_id`, deferred as `write_later` defers, and merged with the row's update already
    waiting (later values win, as two UPDATEs in a row would leave it): a row changed twice in a
    block (a new conversation's greeting, then its assignment) costs one UPDATE, one new tuple.
    The updates of several rows of a table, of the same columns, are sent together (`_update_rows`)."""
    deferred = _deferred(conn)
    if deferred is None:
        update_by_id(conn, table, row_id, values)
        return
    kept = deferred.writes.get((table.name, row_id))
    if isinstance(kept, _RowUpdate):
        kept.values.update(values)
    else:
        deferred.add((table.name, row_id), _RowUpdate(table, row_id, dict(values)), row_id)


def insert_later(conn: Connection, table: Table, new: Sequence[Mapping[str, Any]]) -> None:
    """`insert_many`, deferred as `write_later` defers, the rows joining those already waiting for
    `table` (all with the same columns): the steps of every run of an engine job cost one INSERT."""
    deferred = _deferred(conn)
    if deferred is None:
        insert_many(conn, table, new)
        return
    kept = deferred.writes.get(("insert", table.name))
    if isinstance(kept, _Inserts):
        kept.rows.extend(new)
    else:
        deferred.add(("insert", table.name), _Inserts(table, list(new)), None)


@dataclass(frozen=True, slots=True)
class _Later:
    table: str
    sql: str
    params: tuple[Any, ...]

    def write(self, conn: Connection) -> None:
        execute(conn, self.sql, self.params)


@dataclass(frozen=True, slots=True)
class _RowUpdate:
    table: Table
    row_id: int
    values: dict[str, Any]

    def write(self, conn: Connection) -> None:
        update_by_id(conn, self.table, self.row_id, self.values)


@dataclass(frozen=True, slots=True)
class _Inserts:
    table: Table
    rows: list[Mapping[str, Any]]

    def write(self, conn: Connection) -> None:
        insert_many(conn, self.table, self.rows)


class LaterWrite(Protocol):
    """A write of the caller's own that a `memo` block keeps waiting (`pending`): it runs when a
    statement is about to name one of its `tables`, before a savepoint, or when the block ends."""

    tables: tuple[str, ...]

    def write(self, conn: Connection) -> None: ...


_Write = _Later | _RowUpdate | _Inserts | LaterWrite
_W = TypeVar("_W", bound=LaterWrite)


def pending(conn: Connection, key: tuple[Any, ...], make: Callable[[], _W]) -> _W | None:
    """Within a `memo` block, the caller's write kept waiting under `key` (`make()`'s, the first
    time), which the caller adds to: what an engine job's runs each add is written once for all.
    None outside a block: the caller writes now."""
    deferred = _deferred(conn)
    if deferred is None:
        return None
    kept = deferred.writes.get(key)
    if kept is None:
        kept = make()
        deferred.add(key, kept, None)
    return cast(_W, kept)


@dataclass(slots=True)
class _Deferred:
    """A `memo` block's waiting writes, in the order of their keys' first deferral, and by table:
    the ids of the rows whose UPDATE waits, or None when another kind of write to it waits too (a
    statement is checked against each table, not each write: an engine job keeps a write waiting
    per conversation)."""

    writes: dict[Any, _Write] = field(default_factory=dict)
    tables: dict[str, set[int] | None] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.writes)

    def add(self, key: Any, write: _Write, row_id: int | None) -> None:
        self.writes[key] = write
        for name in _tables_of(write):
            rows_of = self.tables.setdefault(name, set())
            if rows_of is not None and row_id is not None:
                rows_of.add(row_id)
            else:
                self.tables[name] = None

    def named_in(self, sql: str, one_row: tuple[Table, int] | None) -> set[str]:
        """The tables `sql` names whose waiting writes it could read (not when it reads `one_row`
        alone and only other rows' updates wait)."""
        return {name for name, ids in self.tables.items() if _names(name, sql) and not _elsewhere(name, ids, one_row)}

    def take(self, tables: set[str] | None) -> list[_Write]:
        """The writes to `tables` (None: all), in their order, no longer waiting."""
        if tables is None:
            due, self.writes, self.tables = list(self.writes.values()), {}, {}
            return due
        due = [write for write in self.writes.values() if not tables.isdisjoint(_tables_of(write))]
        self.writes = {key: write for key, write in self.writes.items() if tables.isdisjoint(_tables_of(write))}
        for name in tables:
            self.tables.pop(name, None)
        return due


def _elsewhere(name: str, ids: set[int] | None, one_row: tuple[Table, int] | None) -> bool:
    return one_row is not None and ids is not None and one_row[0].name == name and one_row[1] not in ids


def _deferred(conn: Connection) -> _Deferred | None:
    """The current `memo` block's waiting writes (None outside a block)."""
    found = conn.info.get(_MEMO_KEY)
    if found is None:
        return None
    deferred = found.get(_DEFERRED_KEY)
    if deferred is None:
        deferred = found[_DEFERRED_KEY] = _Deferred()
    return deferred  # type: ignore[no-any-return]


def write_deferred(conn: Connection, table: Table | None = None) -> None:
    """Run the writes deferred in the current `memo` block (to `table` only, if given), in the
    order of their keys' first deferral."""
    _write_deferred_to(conn, None if table is None else {table.name})


def _write_deferred_to(conn: Connection, tables: set[str] | None) -> None:
    """The deferred writes to `tables` (None: all), in their order; the others keep waiting. Writes
    to different tables commute: each is a row of its own table (a conversation, a team's rotation,
    a run's steps), and none refers to a row another one writes."""
    found = conn.info.get(_MEMO_KEY)
    deferred = None if found is None else found.get(_DEFERRED_KEY)
    if not deferred:
        return
    for _, grouped in itertools.groupby(deferred.take(tables), key=_alike):
        group = list(grouped)
        if len(group) > 1:  # the same columns of rows of one table: one statement run per row
            _update_rows(conn, cast(list[_RowUpdate], group))
        else:
            group[0].write(conn)


def _alike(later: _Write) -> object:
    """What deferred writes share when they can be sent as one executemany (psycopg pipelines it:
    one round trip): the table and the columns of a row's UPDATE. Any other write stands alone."""
    return (later.table.name, tuple(later.values)) if isinstance(later, _RowUpdate) else id(later)


def _update_rows(conn: Connection, updates: list[_RowUpdate]) -> None:
    table, keys = updates[0].table, tuple(updates[0].values)
    codec = dialect(conn).codec(table)
    execute_many(conn, _update_sql(table, keys, "id = ?"), [[*codec.encode(u.values), u.row_id] for u in updates])


def _tables_of(later: _Write) -> tuple[str, ...]:
    if isinstance(later, _Later):
        return (later.table,)
    if isinstance(later, _RowUpdate | _Inserts):
        return (later.table.name,)
    return later.tables


@lru_cache(maxsize=8192)  # by statement text: the store's are a few hundred, each searched once
def _names(table: str, sql: str) -> bool:
    return re.search(rf"\b{re.escape(table)}\b", sql) is not None  # `conversations`, not `report_conversations`


def _deferred_first(conn: Connection, sql: str, one_row: tuple[Table, int] | None = None) -> None:
    """Before `sql` runs in a `memo` block: the deferred writes to the tables it names (but a
    table whose `one_row` it reads alone, when only other rows' updates wait)."""
    found = conn.info.get(_MEMO_KEY)
    deferred = None if found is None else found.get(_DEFERRED_KEY)
    if deferred:
        named = deferred.named_in(sql, one_row)
        if named:
            _write_deferred_to(conn, named)


def remembered(conn: Connection, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
    """`load()`, or what it gave for `key` earlier in the same `memo` block."""
    found = conn.info.get(_MEMO_KEY)
    if found is None:
        return load()
    if key not in found:
        found[key] = load()
    return found[key]


def recalled(conn: Connection, key: tuple[Any, ...]) -> Any:
    """What `remembered` holds for `key`, or None (nothing read yet, or no `memo` block)."""
    found = conn.info.get(_MEMO_KEY)
    return None if found is None else found.get(key)


def remember(conn: Connection, key: tuple[Any, ...], value: Any) -> None:
    """Within a `memo` block, what `remembered` gives for `key` from now on (read along with something else)."""
    found = conn.info.get(_MEMO_KEY)
    if found is not None:
        found[key] = value


def revise(conn: Connection, key: tuple[Any, ...], change: Callable[[Any], Any]) -> None:
    """What `remembered` holds for `key` (if anything) becomes `change(it)`: for the function that
    has just written what it remembered."""
    found = conn.info.get(_MEMO_KEY)
    if found is not None and found.get(key) is not None:
        found[key] = change(found[key])


def forget(conn: Connection, key: tuple[Any, ...]) -> None:
    found = conn.info.get(_MEMO_KEY)
    if found is not None:
        found.pop(key, None)


def revise_each(conn: Connection, kind: str, change: Callable[[Any], Any]) -> None:
    """`revise` what is remembered under every key of this `kind` (its first item)."""
    found = conn.info.get(_MEMO_KEY) or {}
    for key in _of_kind(found, kind):
        if found[key] is not None:
            found[key] = change(found[key])


def forget_each(conn: Connection, kind: str) -> None:
    """`forget` every key of this `kind` (its first item)."""
    found = conn.info.get(_MEMO_KEY) or {}
    for key in _of_kind(found, kind):
        del found[key]


def _of_kind(found: dict[tuple[Any, ...], Any], kind: str) -> list[tuple[Any, ...]]:
    return [key for key in found if key[0] == kind]


def scalar(conn: Connection, sql: str, params: Iterable[Any] = ()) -> Any:
    row = execute(conn, sql, params).fetchone()
    return None if row is None else row[0]


@cache
def _insert_sql(table: Table, keys: tuple[str, ...], ignore: bool) -> str:
    columns = ", ".join(quote(k) for k in keys)
    marks = ", ".join("?" * len(keys))
    conflict = " ON CONFLICT DO NOTHING" if ignore else ""
    return f"INSERT INTO {table.name} ({columns}) VALUES ({marks}){conflict} RETURNING id"


def insert(conn: Connection, table: Table, values: Mapping[str, Any]) -> int:
    """Insert one row; its id."""
    session = _session(conn)
    sql = _insert_sql(table, tuple(values), False)
    params = session.dialect.codec(table).encode(values)
    return int(_run(conn, session, sql, params).fetchone()[0])


def insert_new(conn: Connection, table: Table, values: Mapping[str, Any]) -> int | None:
    """Insert one row unless a unique constraint already holds its twin; its id, or None.
    (No savepoint needed: the conflicting row is simply not written.)"""
    session = _session(conn)
    sql = _insert_sql(table, tuple(values), True)
    row = _run(conn, session, sql, session.dialect.codec(table).encode(values)).fetchone()
    return None if row is None else int(row[0])


@dataclass(frozen=True, slots=True)
class Link:
    """One INSERT of `insert_chain`: its values, and the columns that take an earlier link's new id
    (column → that link's index). `new_only`: unless a unique constraint holds its twin (`insert_new`)."""

    table: Table
    values: Mapping[str, Any]
    ids: Mapping[str, int] = field(default_factory=dict)
    new_only: bool = False


def insert_chain(conn: Connection, links: Sequence[Link]) -> list[int | None]:
    """Insert rows that each may take the id of a row inserted before them (a contact, its
    identity, its conversation, its message); their ids. A row not written (`new_only`, its twin
    already there) writes none of the rows after it: None for it and for them. On PostgreSQL one
    statement (a WITH of INSERTs), one round trip in the writers' turn instead of one per row."""
    session = _session(conn)
    if not session.dialect.inserts_in_with:
        return _insert_one_by_one(conn, links)
    codec = session.dialect.codec
    shape = tuple((link.table, tuple(link.values), tuple(link.ids.items()), link.new_only) for link in links)
    params = [value for link in links for value in codec(link.table).encode(link.values)]
    found = _run(conn, session, _chain_sql(shape), params).fetchone()
    return [None if new is None else int(new) for new in found]


def _insert_one_by_one(conn: Connection, links: Sequence[Link]) -> list[int | None]:
    found: list[int | None] = []
    for link in links:
        values = {**link.values, **{column: found[index] for column, index in link.ids.items()}}
        new = insert_new(conn, link.table, values) if link.new_only else insert(conn, link.table, values)
        found.append(new)
        if new is None:
            return found + [None] * (len(links) - len(found))
    return found


@cache
def _chain_sql(shape: tuple[tuple[Table, tuple[str, ...], tuple[tuple[str, int], ...], bool], ...]) -> str:
    """`WITH l0 AS (INSERT … RETURNING id), l1 AS (INSERT … SELECT ?, l0.id FROM l0 …) SELECT the ids`:
    each later INSERT selects from every link before it, so one that wrote nothing stops the rest."""
    parts = []
    for index, (table, keys, ids, new_only) in enumerate(shape):
        columns = ", ".join(quote(k) for k in (*keys, *(column for column, _ in ids)))
        values = ", ".join(["?"] * len(keys) + [f"l{earlier}.id" for _, earlier in ids])
        source = f" FROM {', '.join(f'l{earlier}' for earlier in range(index))}" if index else ""
        conflict = " ON CONFLICT DO NOTHING" if new_only else ""
        parts.append(
            f"l{index} AS (INSERT INTO {table.name} ({columns}) SELECT {values}{source}{conflict} RETURNING id)"
        )
    found = ", ".join(f"(SELECT id FROM l{index})" for index in range(len(shape)))
    return f"WITH {', '.join(parts)} SELECT {found}"


# Rows per multi-row INSERT, largest first: 13 statement texts per table at most, each prepared once
# per connection on PostgreSQL; at most 100 rows keeps a wide table under SQLite's 32,766 parameters.
_CHUNKS = (100, 50, 20, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)


@cache
def _insert_rows_sql(table: Table, keys: tuple[str, ...], count: int, returning: bool) -> str:
    row = f"({', '.join('?' * len(keys))})"
    values = ", ".join([row] * count)
    return f"INSERT INTO {table.name} ({', '.join(quote(k) for k in keys)}) VALUES {values}" + (
        " RETURNING id" if returning else ""
    )


def insert_many(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows that all name the same columns, in order: on PostgreSQL one statement from one
    array per column, whatever their number (a 100-row VALUES list cost psycopg ~8 ms of parsing
    each time: it caches the parse of statements up to 50 parameters); elsewhere one statement for
    up to 100 rows (an executemany is a statement per row, each its own execution on the server)."""
    _insert_rows(conn, table, rows, returning=False)


def insert_many_ids(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> list[int]:
    """`insert_many`, and the new rows' ids in the rows' order. A statement's new ids grow in the
    order it inserts its rows: PostgreSQL's from the arrays' order, SQLite's from its one writer."""
    return sorted(_insert_rows(conn, table, rows, returning=True))


def _insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]], returning: bool) -> list[int]:
    session = _session(conn)
    codec = session.dialect.codec(table)
    keys = tuple(rows[0]) if rows else ()
    encoded = [codec.encode(r) for r in rows]
    if len(encoded) > 1 and session.dialect.inserts_from_arrays:  # one statement, one array per column
        _deferred_first(conn, f"INSERT INTO {table.name}")
        columns = [list(column) for column in zip(*encoded, strict=True)]
        return session.dialect.insert_from_arrays(session.driver, table, keys, columns, returning)
    ids: list[int] = []
    start = 0
    while start < len(encoded):
        count = next(size for size in _CHUNKS if size <= len(encoded) - start)
        params = [value for row in encoded[start : start + count] for value in row]
        found = _run(conn, session, _insert_rows_sql(table, keys, count, returning), params)
        if returning:
            ids.extend(int(new_id) for (new_id,) in found.fetchall())
        start += count
    return ids


@cache
def _update_sql(table: Table, keys: tuple[str, ...], where: str) -> str:
    return f"UPDATE {table.name} SET {', '.join(f'{quote(k)} = ?' for k in keys)} WHERE {where}"


def update(conn: Connection, table: Table, where: str, params: Iterable[Any], values: Mapping[str, Any]) -> int:
    """`UPDATE table SET values WHERE where`; the number of rows changed."""
    session = _session(conn)
    sql = _update_sql(table, tuple(values), where)
    encoded = [*session.dialect.codec(table).encode(values), *params]
    return _run(conn, session, sql, encoded).rowcount


def update_by_id(conn: Connection, table: Table, row_id: int, values: Mapping[str, Any]) -> int:
    return update(conn, table, "id = ?", (row_id,), values)


def select_one(conn: Connection, table: Table, where: str, params: Iterable[Any] = ()) -> Row | None:
    """The first row of `table` (every column, decoded) matching `where`."""
    codec = dialect(conn).codec(table)
    row = execute(conn, f"{codec.select} WHERE {where}", params).fetchone()
    return None if row is None else codec.decode(row)


def select_all(conn: Connection, table: Table, where: str, params: Iterable[Any] = ()) -> list[Row]:
    codec = dialect(conn).codec(table)
    return [codec.decode(r) for r in execute(conn, f"{codec.select} WHERE {where}", params)]


def by_id(conn: Connection, table: Table, row_id: int) -> Row | None:
    return select_one(conn, table, "id = ?", (row_id,))


def value(conn: Connection, table: Table, column: str, row_id: int) -> Any:
    """One column of the row with this id, decoded (None if there is no such row)."""
    row = execute(conn, f"SELECT {quote(column)} FROM {table.name} WHERE id = ?", (row_id,)).fetchone()
    return None if row is None else dialect(conn).codec(table).decode(row, (column,))[column]


def decode(conn: Connection, table: Table, columns: tuple[str, ...], row: Sequence[Any]) -> Row:
    """A row of some of `table`'s columns, read by a hand-written SELECT, decoded."""
    return dialect(conn).codec(table).decode(row, columns)


def fields_of(record: Any) -> dict[str, Any]:
    """A dataclass instance's fields by name, the values themselves (`dataclasses.asdict` deep-copies
    each one: half of the reports' fold went to copying datetimes)."""
    return {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}
