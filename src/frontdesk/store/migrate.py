"""Bring a database to the newest schema with Alembic (on start and via `frontdesk migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from frontdesk.store.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 0x46_44_4D_47  # "FDMG": PostgreSQL's advisory lock held while one process migrates


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Migrate to head over `engine`'s connection (the writer is not running yet)."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # several processes may start at once: one migrates
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


def open_migrated(url: str, secret_key: str | None) -> Database:
    """The database at `url`, brought to the newest schema, its writer started: how a server or a
    command opens it, once per process (the worker process opens it already migrated)."""
    db = Database(url, secret_key=secret_key)
    upgrade(db.write_engine)
    db.start()
    return db
