"""Channel secrets are sealed in the database: a copy of its files alone does not reveal them."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic import command
from cryptography.fernet import Fernet
from sqlalchemy import Connection, text

from frontdesk.actions.channels import create_channel
from frontdesk.clock import now
from frontdesk.domain.model import ChannelType
from frontdesk.store.database import Database
from frontdesk.store.encryption import SecretKeyProblem
from frontdesk.store.migrate import alembic_config, upgrade
from frontdesk.store.sql.channels import channel_secrets
from tests.databases import sqlite_only

pytestmark = sqlite_only("reads the bytes of the database file a thief would copy")


def _secret(conn: Connection, channel_id: int) -> str | None:
    """The channel's current secret, as the signature check reads it."""
    found = channel_secrets(conn, channel_id, now())
    return found[0] if found else None


def _raw_files(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.iterdir() if p.name.startswith(path.name))


def _new_channel(db: Database) -> tuple[int, str]:
    return db.write_sync(lambda c: create_channel(c, ChannelType.API, "Website", {}))


def test_a_channel_secret_is_in_no_database_file_yet_reads_back_in_clear(tmp_path: Path) -> None:
    path = tmp_path / "frontdesk.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.write_engine)
    db.start()
    try:
        channel_id, secret = _new_channel(db)
        assert db.read_sync(lambda c: _secret(c, channel_id)) == secret
        assert secret.encode() not in _raw_files(path)
        stored = sqlite3.connect(path).execute("SELECT secret FROM channels").fetchone()[0]
        assert stored.startswith("fernet:")
    finally:
        db.close()


def test_a_copy_of_the_database_opened_with_another_key_reveals_no_secret(tmp_path: Path) -> None:
    path = tmp_path / "frontdesk.db"
    db = Database(f"sqlite:///{path}")
    upgrade(db.write_engine)
    db.start()
    channel_id, _ = _new_channel(db)
    db.close()
    (tmp_path / "frontdesk.key").unlink()  # the copy travels without the key beside it

    thief = Database(f"sqlite:///{path}")
    try:
        with pytest.raises(SecretKeyProblem, match="not the key it was sealed with"):
            thief.read_sync(lambda c: _secret(c, channel_id))
    finally:
        thief.close()


def test_the_key_from_settings_is_used_and_no_key_file_is_made(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    url = f"sqlite:///{tmp_path}/frontdesk.db"
    db = Database(url, secret_key=key)
    upgrade(db.write_engine)
    db.start()
    channel_id, secret = _new_channel(db)
    db.close()

    again = Database(url, secret_key=f"{Fernet.generate_key().decode()},{key}")  # a new first key; the old opens
    try:
        assert again.read_sync(lambda c: _secret(c, channel_id)) == secret
    finally:
        again.close()
    assert not (tmp_path / "frontdesk.key").exists()


def test_a_malformed_key_setting_is_refused_naming_the_setting(tmp_path: Path) -> None:
    with pytest.raises(SecretKeyProblem, match="FRONTDESK_SECRET_KEY"):
        Database(f"sqlite:///{tmp_path}/frontdesk.db", secret_key="hunter2")


def test_plain_channel_secrets_from_before_the_upgrade_are_sealed_by_it_and_keep_working(tmp_path: Path) -> None:
    path = tmp_path / "frontdesk.db"
    db = Database(f"sqlite:///{path}")
    config = alembic_config(db.url)
    with db.write_engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0007")
        conn.execute(
            text(
                "INSERT INTO channels (type, name, config, secret, created_at)"
                " VALUES ('api', 'Old', '{}', 'plain-old-secret', '2026-01-01 00:00:00')"
            )
        )
    upgrade(db.write_engine)

    stored = sqlite3.connect(path).execute("SELECT secret FROM channels").fetchone()[0]
    assert stored.startswith("fernet:") and "plain-old-secret" not in stored
    assert db.read_sync(lambda c: _secret(c, 1)) == "plain-old-secret"
    db.close()
