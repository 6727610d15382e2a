"""Migration 0022 adds the reports' daily counters and clears the rollups and their cursor, so the
worker folds the whole log again and the days cover the history; its downgrade drops the days."""

from __future__ import annotations

from pathlib import Path

from tests.databases import Databases, query
from tests.store.test_partitions_migration import _migrate

_ROLLUPS = ";".join(
    [
        "INSERT INTO report_conversations (conversation_id, opened_at, channel_id, source, team_id, agent_id,"
        " queue_team_id, category) VALUES (1, '2026-01-01 00:00:00', 1, 'contact', 0, 0, 0, '')",
        "INSERT INTO report_counts (metric, hour, channel_id, team_id, agent_id, label, bucket, count)"
        " VALUES ('opened', 492264, 1, 0, 0, 'contact', 0, 1)",
        "INSERT INTO engine_cursors (name, position) VALUES ('reports', 7)",
    ]
)


def test_the_upgrade_clears_the_rollups_so_the_worker_folds_the_log_again(
    template_db: Databases, tmp_path: Path
) -> None:
    url = template_db.empty(tmp_path)
    try:
        _migrate(url, "0020", setup=_ROLLUPS)
        _migrate(url, "head")

        for table in ("report_conversations", "report_counts", "report_days", "report_days_zone"):
            assert query(url, f"SELECT count(*) FROM {table}") == [(0,)], table
        assert query(url, "SELECT name FROM engine_cursors WHERE name = 'reports'") == []

        _migrate(url, "0020", downgrade=True)
        assert query(url, "SELECT count(*) FROM report_counts") == [(0,)]
    finally:
        template_db.drop(url)
