"""Migration 0023 keeps the rollups and their cursor (a large log folded again would take the
reports away meanwhile) and starts each agent's presence as the agents table says it; its downgrade
drops the new tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.databases import Databases, query
from tests.store.test_partitions_migration import _migrate
from tests.store.test_report_days_migration import _ROLLUPS

_AGENTS = ";".join(
    "INSERT INTO agents (name, email, role, availability, capacity, skills, availability_changed_at, created_at)"
    f" VALUES ('{name}', '{name}@acme.example', 'agent', '{availability}', 5, '[]', '{since}', '2026-01-01 00:00:00')"
    for name, availability, since in [("ada", "online", "2026-03-01 08:00:00"), ("bo", "away", "2026-03-02 09:30:00")]
)


def test_the_upgrade_keeps_the_rollups_and_starts_each_presence_from_the_agents_table(
    template_db: Databases, tmp_path: Path
) -> None:
    url = template_db.empty(tmp_path)
    try:
        _migrate(url, "0022", setup=f"{_ROLLUPS};{_AGENTS}")
        _migrate(url, "head")

        assert query(url, "SELECT count(*) FROM report_counts") == [(1,)]
        assert query(url, "SELECT count(*) FROM report_conversations") == [(1,)]
        assert query(url, "SELECT position FROM engine_cursors WHERE name = 'reports'") == [(7,)]
        presence = query(
            url,
            "SELECT a.name, p.availability, p.since = a.availability_changed_at"
            " FROM report_agent_presence p JOIN agents a ON a.id = p.agent_id ORDER BY a.name",
        )
        assert [tuple(row) for row in presence] == [("ada", "online", True), ("bo", "away", True)]
        assert query(url, "SELECT count(*) FROM report_agent_time") == [(0,)]

        _migrate(url, "0022", downgrade=True)
        with pytest.raises(Exception, match="report_agent_time"):
            query(url, "SELECT count(*) FROM report_agent_time")
    finally:
        template_db.drop(url)
