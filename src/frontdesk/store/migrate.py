"""Bring a database to the newest schema with Alembic (on start and via `frontdesk migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Migrate to head over `engine`'s connection (the writer is not running yet)."""
    config = alembic_config(str(engine.url.render_as_string(hide_password=False)))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
