"""`frontdesk migrate-to URL`: a stopped SQLite installation moves into PostgreSQL, every row kept."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from alembic import command

from frontdesk.store.database import Database
from frontdesk.store.migrate import alembic_config, upgrade
from frontdesk.store.sql.channels import channel
from frontdesk.store.tables import Encrypted, metadata
from tests.conftest import FRONTDESK, LiveServer
from tests.databases import ON_POSTGRESQL, Databases, query, table_rows
from tests.factories import eventually

pytestmark = pytest.mark.skipif(not ON_POSTGRESQL, reason="needs a PostgreSQL server: runs in the PostgreSQL pass")


@pytest.fixture
def target(template_db: Databases, tmp_path: Path) -> Iterator[str]:
    url = template_db.empty(tmp_path)
    yield url
    template_db.drop(url)


def _cli(source: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FRONTDESK_DATABASE_URL": source}
    return subprocess.run([str(FRONTDESK), *args], env=env, capture_output=True, text=True, timeout=120)


def _migrate_to(source: str, target: str) -> subprocess.CompletedProcess[str]:
    return _cli(source, "migrate-to", target)


def _typed_rows(url: str) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table as the schema reads it (dates, JSON, booleans compare across the
    two databases; secrets as their sealed text), in primary-key order."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return {table.name: _rows(conn, table) for table in metadata.sorted_tables}
    finally:
        engine.dispose()


def _rows(conn: sa.Connection, table: sa.Table) -> list[dict[str, Any]]:
    columns = [sa.type_coerce(c, sa.Text()).label(c.name) if isinstance(c.type, Encrypted) else c for c in table.c]
    ordered = sa.select(*columns).order_by(*table.primary_key.columns)
    return [dict(row._mapping) for row in conn.execute(ordered)]


def _traffic(server: LiveServer) -> int:
    """Ada writes; the demo workflow greets her and waits for her answer. The run's id."""
    with httpx.Client(base_url=server.base_url, headers=server.headers) as client:
        body = {"contact": {"external_id": "ada", "name": "Ada"}, "message": {"id": "m1", "text": "Hi"}}
        assert client.post("/api/v1/channels/1/inbound", json=body).status_code in (200, 201, 202)
        run = eventually(lambda: _waiting(client, "ask_topic"), "the run waiting for Ada's topic")
    return int(run["id"])


def _waiting(client: httpx.Client, step: str) -> dict[str, Any] | None:
    found = [r for r in client.get("/api/v1/runs").json() if r["status"] == "waiting" and r["current_step"] == step]
    return found[0] if found else None


def test_a_stopped_sqlite_installation_moves_to_postgresql_and_carries_on_there(
    target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = f"sqlite:///{tmp_path}/var/frontdesk.db"
    server = LiveServer(source, tmp_path / "source.log")
    server.start()
    run_id = _traffic(server)
    server.stop()

    moved = _migrate_to(source, target)

    assert moved.returncode == 0, moved.stderr
    key_file = tmp_path / "var/frontdesk.key"
    assert f'FRONTDESK_SECRET_KEY="$(cat {key_file})"' in moved.stdout
    key = key_file.read_text().strip()
    assert key not in moved.stdout + moved.stderr
    assert table_rows(source).keys() == table_rows(target).keys()
    before, after = _typed_rows(source), _typed_rows(target)
    assert {name: len(rows) for name, rows in after.items()} == {name: len(rows) for name, rows in before.items()}
    assert after == before
    assert after["engine_partitions"] and after["events"] and after["messages"]
    assert any(row["position"] > 0 for row in after["engine_partitions"])  # the engine's cursors came along
    assert _opened_secret(target, key) == _opened_secret(source, key)

    monkeypatch.setenv("FRONTDESK_SECRET_KEY", key)  # as the command says
    moved_server = LiveServer(target, tmp_path / "target.log")
    moved_server.start()
    try:
        with httpx.Client(base_url=moved_server.base_url, headers=moved_server.headers) as client:
            answer = {"contact": {"external_id": "ada"}, "message": {"id": "m2", "text": "Sales"}}
            assert client.post("/api/v1/channels/1/inbound", json=answer).status_code in (200, 201, 202)
            resumed = eventually(lambda: _waiting(client, "ask_email"), "the run to take Ada's answer")
    finally:
        moved_server.stop()
    assert resumed["id"] == run_id
    newest = query(target, "SELECT max(id) FROM messages")[0][0]
    assert isinstance(newest, int) and newest > max(m["id"] for m in before["messages"])


def _opened_secret(url: str, key: str) -> str:
    db = Database(url, secret_key=key)
    try:
        found = db.read_sync(lambda conn: channel(conn, 1))
    finally:
        db.close()
    assert found is not None
    return found.secret


def test_a_target_holding_data_is_refused_and_left_untouched(template_db: Databases, tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path}/frontdesk.db"
    migrated = Database(source)
    upgrade(migrated.write_engine)
    migrated.close()
    target = template_db.new(tmp_path)
    engine = sa.create_engine(target)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO instance_settings (key, value) VALUES ('someone', 'was here')"))
    engine.dispose()
    before = table_rows(target)

    try:
        refused = _migrate_to(source, target)

        assert refused.returncode == 2
        assert "the target already holds data (in instance_settings)" in refused.stderr
        assert table_rows(target) == before
    finally:
        template_db.drop(target)


def test_a_source_still_open_in_another_process_is_refused(target: str, tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path}/frontdesk.db"
    running = Database(source)  # as a server left running would hold it
    upgrade(running.write_engine)
    running.read_sync(lambda conn: conn.exec_driver_sql("SELECT 1").all())
    try:
        refused = _migrate_to(source, target)
    finally:
        running.close()

    assert refused.returncode == 2
    assert f"process {os.getpid()} has" in refused.stderr
    assert "stop `frontdesk serve` (and its worker) first" in refused.stderr
    assert _migrate_to(source, target).returncode == 0  # once it is closed


def test_a_source_behind_the_newest_schema_is_refused_and_the_target_stays_empty(target: str, tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path}/frontdesk.db"
    command.upgrade(alembic_config(source), "0013")

    refused = _migrate_to(source, target)

    assert refused.returncode == 2
    assert "the source's schema is at 0013" in refused.stderr
    assert "run `frontdesk migrate` on it first" in refused.stderr
    assert query(target, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == [(0,)]


def test_a_move_that_fails_midway_leaves_the_target_without_a_row(target: str, tmp_path: Path) -> None:
    source = f"sqlite:///{tmp_path}/frontdesk.db"
    assert _cli(source, "demo").returncode == 0
    engine = sa.create_engine(source)
    with engine.begin() as conn:  # SQLite ignores varchar lengths; PostgreSQL refuses this one
        conn.execute(sa.text("UPDATE teams SET name = :name WHERE id = 2"), {"name": "x" * 200})
    engine.dispose()

    failed = _migrate_to(source, target)

    assert failed.returncode == 2
    assert "the copy was rolled back, the target holds no row: value too long" in failed.stderr
    left = table_rows(target)
    assert all(rows == [] for name, rows in left.items() if name not in ("alembic_version", "engine_partitions"))
    assert {row[1] for row in left["engine_partitions"]} == {0}  # only what the migration seeds
