"""Migration 0015 partitions the event log: every partition's cursor starts where the single
"workflows" cursor stood (nothing processed twice, nothing skipped), and each event already
written gets its contact's partition. A downgrade puts the single cursor back."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from frontdesk.domain.partitions import PARTITIONS, partition_of
from frontdesk.store.migrate import alembic_config
from tests.databases import Databases, query

CONTACTS = [1, 33, None, 5, 64]


def _migrate(url: str, revision: str, downgrade: bool = False, setup: str = "") -> None:
    engine = create_engine(url)
    config = alembic_config(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if downgrade else command.upgrade)(config, revision)
        for statement in filter(None, setup.split(";")):
            conn.execute(text(statement))
    engine.dispose()


def _old_log() -> str:
    inserts = [
        "INSERT INTO events (type, contact_id, conversation_id, payload, created_at)"
        f" VALUES ('contact.created', {'NULL' if c is None else c}, NULL, '{{}}', '2026-01-01 00:00:00')"
        for c in CONTACTS
    ]
    return ";".join([*inserts, "INSERT INTO engine_cursors (name, position) VALUES ('workflows', 3)"])


def test_every_partition_starts_at_the_old_cursor_and_old_events_get_their_contacts_partition(
    template_db: Databases, tmp_path: Path
) -> None:
    url = template_db.empty(tmp_path)
    try:
        _migrate(url, "0014", setup=_old_log())
        _migrate(url, "head")

        cursors = query(url, 'SELECT "partition", "position", owner FROM engine_partitions ORDER BY 1')
        assert cursors == [(p, 3, None) for p in range(PARTITIONS)]
        assert query(url, 'SELECT "partition" FROM events ORDER BY id') == [(partition_of(c),) for c in CONTACTS]
        assert query(url, "SELECT name FROM engine_cursors") == []

        _migrate(url, "0014", downgrade=True)
        assert query(url, "SELECT name, position FROM engine_cursors") == [("workflows", 3)]
    finally:
        template_db.drop(url)
