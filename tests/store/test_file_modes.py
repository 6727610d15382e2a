"""The database files hold channel secrets and conversations: only their owner may read them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from frontdesk.clock import now
from frontdesk.store.database import Database
from frontdesk.store.migrate import upgrade
from frontdesk.store.tables import teams
from tests.databases import sqlite_only

pytestmark = sqlite_only("the modes of SQLite's files (PostgreSQL keeps its own)")


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    """The common default (022) under which SQLite alone creates world-readable files."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_database_its_wal_shm_and_lock_are_readable_by_their_owner_only(
    tmp_path: Path, permissive_umask: None
) -> None:
    folder = tmp_path / "var"
    db = Database(f"sqlite:///{folder}/frontdesk.db")
    upgrade(db.write_engine)
    db.start()
    try:
        db.write_sync(lambda c: c.execute(insert(teams).values(name="Sales", assignment={}, created_at=now())))
        files = sorted(p.name for p in folder.iterdir())
        assert {"frontdesk.db", "frontdesk.db-wal", "frontdesk.db-shm", "frontdesk.db-writer.lock"} <= set(files)
        assert {name: _mode(folder / name) for name in files} == {name: 0o600 for name in files}
        assert _mode(folder) == 0o700
    finally:
        db.close()


def test_a_database_made_world_readable_before_is_restricted_at_start(tmp_path: Path, permissive_umask: None) -> None:
    path = tmp_path / "frontdesk.db"
    Database(f"sqlite:///{path}").close()
    for name in ("frontdesk.db", "frontdesk.db-wal"):
        (tmp_path / name).touch()
        (tmp_path / name).chmod(0o644)

    Database(f"sqlite:///{path}").close()

    assert _mode(path) == 0o600
    assert _mode(tmp_path / "frontdesk.db-wal") == 0o600
