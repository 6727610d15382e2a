"""`frontdesk migrate-to URL`: a stopped SQLite installation's every row, moved into PostgreSQL.

The rows keep their ids (messages, runs and the engine's cursor refer to them), go in foreign-key
order, a batch at a time (an inbox does not fit in memory), and in one transaction on the target,
so a move that fails leaves the target empty. Secrets stay sealed as they are (ADR 0005): the
target must be served with the source's key, which the command says how to give it. JSON is
copied as its text and secrets as their sealed text, never decoded and encoded again.
"""

from __future__ import annotations

import fcntl
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Table, create_engine
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from frontdesk.domain.errors import Conflict, InvalidInput
from frontdesk.store import rows
from frontdesk.store.database import Database, key_path, with_driver
from frontdesk.store.migrate import alembic_config, upgrade
from frontdesk.store.tables import Encrypted, engine_partitions, events, metadata

BATCH_ROWS = 2000
_SHM_DEADMAN = 128  # SQLite's "dead man switch" byte of the -shm file: every open connection read-locks it


@dataclass(frozen=True)
class Moved:
    """What a move copied, for the command to report."""

    rows: dict[str, int]  # per table, in the order they were copied
    key_file: Path | None  # the source's key file, when no FRONTDESK_SECRET_KEY was given


def move(source_url: str, target_url: str, secret_key: str | None) -> Moved:
    """Copy every row of the SQLite database `source_url` into the PostgreSQL one `target_url`
    (migrated to head here), or change nothing and raise a DomainError saying why."""
    _check_unused(_check_urls(source_url, target_url))
    source = create_engine(source_url, connect_args={"isolation_level": None})  # BEGIN is ours
    try:
        with source.connect() as reader:
            reader.exec_driver_sql("BEGIN")  # one read transaction: every table from one snapshot
            _check_at_head(reader, source_url)
            key, key_file = _source_key(source_url, secret_key)
            return Moved(_copy_into(reader, target_url, key), key_file)
    finally:
        source.dispose()


def _copy_into(reader: Connection, target_url: str, key: str) -> dict[str, int]:
    target = Database(target_url, secret_key=key)  # the source's key: no key file is made for the target
    try:
        upgrade(target.write_engine)
        with target.write_engine.begin() as writer:
            _check_empty(writer)
            copied = {table.name: _copy(reader, writer, table) for table in metadata.sorted_tables}
            _advance_sequences(writer)
        return copied
    except DBAPIError as exc:  # a value PostgreSQL refuses (a length SQLite ignored), a lost connection
        raise InvalidInput("move_failed", f"the copy was rolled back, the target holds no row: {exc.orig}") from exc
    finally:
        target.close()


def _check_urls(source_url: str, target_url: str) -> Path:
    source, target = make_url(source_url), make_url(with_driver(target_url))
    if source.get_backend_name() != "sqlite":
        raise InvalidInput("source_not_sqlite", "FRONTDESK_DATABASE_URL (the source) must be an SQLite database")
    if target.get_backend_name() != "postgresql":
        raise InvalidInput("target_not_postgresql", "the target must be a postgresql:// URL")
    if not source.database or source.database.startswith("file:") or source.database == ":memory:":
        raise InvalidInput("source_not_a_file", "the source must be an SQLite database file")
    path = Path(source.database).expanduser().resolve()
    if not path.is_file():
        raise InvalidInput("source_missing", f"no SQLite database at {path}")
    return path


def _check_unused(path: Path) -> None:
    """Refuse while another process (a server, its worker, a command) has the database open: what
    it wrote after the copy would be lost. An open WAL connection read-locks a byte of the -shm
    file for its whole life; F_GETLK asks whether anyone holds it without taking it."""
    shm = Path(f"{path}-shm")
    try:
        fd = os.open(shm, os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:
        return  # no -shm: no connection is open
    try:
        # Linux's struct flock (type, whence, start, length, pid), 64-bit off_t.
        probe = struct.pack("hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, _SHM_DEADMAN, 1, 0)
        held = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_GETLK, probe))
    finally:
        os.close(fd)
    if held[0] != fcntl.F_UNLCK:
        raise Conflict(
            "source_in_use",
            f"process {held[4]} has {path} open: stop `frontdesk serve` (and its worker) first, then move",
        )


def _source_key(source_url: str, secret_key: str | None) -> tuple[str, Path | None]:
    """The key the source's secrets are sealed with: FRONTDESK_SECRET_KEY, or its key file."""
    if secret_key:
        return secret_key, None
    path = key_path(source_url)
    if path is None or not path.is_file():
        raise InvalidInput(
            "source_key_missing",
            f"no key file at {path} and no FRONTDESK_SECRET_KEY: the target could not open the secrets copied",
        )
    return path.read_text().strip(), path


def _check_at_head(reader: Connection, source_url: str) -> None:
    current = MigrationContext.configure(reader).get_current_revision()
    head = ScriptDirectory.from_config(alembic_config(source_url)).get_current_head()
    if current != head:
        raise Conflict(
            "source_not_at_head",
            f"the source's schema is at {current}, not {head}: run `frontdesk migrate` on it first",
        )


# Tables a migration fills (0015: one row per partition, at the log's start): in a fresh target
# they hold only those rows, which the source's replace.
SEEDED = {engine_partitions.name: sa.or_(engine_partitions.c.position != 0, engine_partitions.c.owner.is_not(None))}


def _check_empty(writer: Connection) -> None:
    held = [
        table.name
        for table in metadata.sorted_tables
        if writer.execute(sa.select(table).where(SEEDED.get(table.name, sa.true())).limit(1)).first()
    ]
    if held:
        raise Conflict(
            "target_not_empty",
            f"the target already holds data (in {', '.join(held)}): give an empty database; nothing was copied",
        )


class _JsonText(sa.types.TypeDecorator[str]):
    """A JSON column's text as stored, cast to jsonb by PostgreSQL (SQL NULL stays NULL)."""

    impl = sa.Text
    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> Any:
        return sa.cast(bindvalue, JSONB)


def _raw(table: Table) -> Table:
    """`table` with its sealed and JSON columns as text: values cross over as they are stored."""
    columns = [sa.Column(c.name, _raw_type(c.type), primary_key=c.primary_key) for c in table.columns]
    return Table(table.name, sa.MetaData(), *columns)


def _raw_type(type_: sa.types.TypeEngine[Any]) -> sa.types.TypeEngine[Any]:
    if isinstance(type_, Encrypted):
        return sa.Text()
    if isinstance(type_, sa.JSON):
        return _JsonText()
    return type_


def _copy(reader: Connection, writer: Connection, table: Table) -> int:
    raw = _raw(table)
    if table.name in SEEDED:
        writer.execute(sa.delete(raw))
    if table is events:
        rows.order_events(writer)  # as every writer of events does (store/sql/events.py)
    count = 0
    for batch in _batches(reader, raw):
        writer.execute(sa.insert(raw), batch)
        count += len(batch)
    return count


def _batches(reader: Connection, raw: Table) -> Iterator[list[dict[str, Any]]]:
    ordered = sa.select(raw).order_by(*raw.primary_key.columns)
    result = reader.execution_options(yield_per=BATCH_ROWS).execute(ordered)
    for part in result.partitions():
        yield [dict(row._mapping) for row in part]


def _advance_sequences(writer: Connection) -> None:
    """Each id sequence past the highest id copied, so the next insert gets a fresh id."""
    for table in metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        writer.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), coalesce(max(id), 0) + 1, false)"
            f' FROM "{table.name}"'
        )
