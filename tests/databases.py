"""Fresh, migrated databases for tests, on the database the run is for.

`make test` runs the suite twice: on SQLite (the default) and with
`FRONTDESK_TEST_DATABASE=postgresql` on a throw-away PostgreSQL cluster (tests/pgcluster.py).
Alembic runs once per run, into a template: an SQLite file copied for each test, or a PostgreSQL
database each test's database is created from (`CREATE DATABASE … TEMPLATE`).
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url

from frontdesk.store.database import Database
from frontdesk.store.migrate import upgrade
from frontdesk.store.tables import metadata

KIND = os.environ.get("FRONTDESK_TEST_DATABASE", "sqlite")
if KIND not in ("sqlite", "postgresql"):
    raise RuntimeError(f"FRONTDESK_TEST_DATABASE must be sqlite or postgresql, not {KIND!r}")
ON_POSTGRESQL = KIND == "postgresql"
TEMPLATE = "frontdesk_template"


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """A test of SQLite's own files or behaviour; the PostgreSQL pass skips it, saying why."""
    return pytest.mark.skipif(ON_POSTGRESQL, reason=f"SQLite only: {reason}")


# Browser tests of a page's markup and script (a real server and Chromium each, the suite's
# dearest tests): what they store goes through the actions and statements that the API tests run
# on PostgreSQL. The pages whose live updates cross processes (the inbox, the web chat, ticks,
# attachments, the provider journeys) run on both databases.
PAGE_ONLY = sqlite_only("a page's markup and script; the store behind it runs on PostgreSQL in the API tests")


class Databases:
    """Makes each test a migrated database of its own."""

    def __init__(self, folder: Path, server_url: str | None) -> None:
        self.folder = folder
        self.server_url = server_url  # a PostgreSQL superuser URL; None on SQLite
        self._numbers = itertools.count(1)
        self._admin: Engine | None = None
        if server_url is None:
            self.template = folder / "template.db"
            db = Database(f"sqlite:///{self.template}")
            upgrade(db.write_engine)
            db.close()
            with create_engine(f"sqlite:///{self.template}").connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        else:
            self._admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}"'))
                conn.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
            db = Database(self._url(TEMPLATE))
            upgrade(db.write_engine)
            db.close()

    def _url(self, name: str) -> str:
        assert self.server_url is not None
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def new(self, folder: Path, name: str = "frontdesk") -> str:
        """The URL of a new migrated database (an SQLite file `name`.db in `folder`)."""
        if self._admin is None:
            path = folder / f"{name}.db"
            shutil.copy(self.template, path)
            return f"sqlite:///{path}"
        database = f"test_{os.getpid()}_{next(self._numbers)}"
        with self._admin.connect() as conn:
            # FILE_COPY (PostgreSQL 15+): a small database copied as files, ~40% faster here than
            # the default WAL_LOG, and its drop too; the tests' cluster does not fsync anyway.
            conn.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{TEMPLATE}" STRATEGY FILE_COPY'))
        return self._url(database)

    def empty(self, folder: Path, name: str = "empty") -> str:
        """The URL of a new database with no tables (for tests of migrating)."""
        if self._admin is None:
            return f"sqlite:///{folder / name}.db"
        database = f"empty_{os.getpid()}_{next(self._numbers)}"
        with self._admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
        return self._url(database)

    def drop(self, url: str) -> None:
        """Delete a database `new` made (SQLite's files go with the test's folder)."""
        if self._admin is None:
            return
        name = make_url(url).database
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        if self._admin is not None:
            self._admin.dispose()


# What changes by itself: the engine's heartbeat renews its leases about every second.
_LEASES = {"engine_workers": None, "engine_partitions": '"partition", "position"'}
# The schema's tables, as migrated (tests/store checks the migrations against these models):
# reading the catalogue for them on every snapshot cost more than the rows on PostgreSQL.
TABLE_NAMES = sorted([*metadata.tables, "alembic_version"])


def rows_of_every_table(conn: Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: what a test compares before and after a refused request
    (of the engine's leases, only each partition's position)."""
    found = {}
    for name in TABLE_NAMES:
        columns = _LEASES.get(name, "*")
        if columns is not None:
            found[name] = sorted((tuple(r) for r in conn.execute(text(f'SELECT {columns} FROM "{name}"'))), key=repr)
    return found


def table_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """`rows_of_every_table` on a connection of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return rows_of_every_table(conn)
    finally:
        engine.dispose()


def stored_bytes(url: str) -> bytes:
    """Everything the database holds as bytes a thief could read: SQLite's files (the database,
    its WAL), or every row of every table of a PostgreSQL database."""
    if make_url(url).get_backend_name() != "sqlite":
        return repr(table_rows(url)).encode()
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    """The rows of one read on a connection of its own (beside the process under test)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()
