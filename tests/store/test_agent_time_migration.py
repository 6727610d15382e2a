"""Migration 0023 adds the agents' time and clears the rollups and their cursor, so the worker folds
the whole log again and the agents' time covers the history; its downgrade drops the new tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.databases import Databases, query
from tests.store.test_partitions_migration import _migrate
from tests.store.test_report_days_migration import _ROLLUPS


def test_the_upgrade_clears_the_rollups_and_the_downgrade_drops_the_agents_time(
    template_db: Databases, tmp_path: Path
) -> None:
    url = template_db.empty(tmp_path)
    try:
        _migrate(url, "0022", setup=_ROLLUPS)
        _migrate(url, "head")

        for table in ("report_conversations", "report_counts", "report_agent_presence", "report_agent_time"):
            assert query(url, f"SELECT count(*) FROM {table}") == [(0,)], table
        assert query(url, "SELECT name FROM engine_cursors WHERE name = 'reports'") == []

        _migrate(url, "0022", downgrade=True)
        with pytest.raises(Exception, match="report_agent_time"):
            query(url, "SELECT count(*) FROM report_agent_time")
    finally:
        template_db.drop(url)
