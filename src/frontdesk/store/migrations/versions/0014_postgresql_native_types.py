"""PostgreSQL's own types: `timestamptz` for every timestamp, `jsonb` for every JSON column

The earlier revisions declared `DateTime()` and `JSON()`, which SQLite stores as text and
PostgreSQL would store as `timestamp` (no zone) and `json`. This revision turns every such
column of a PostgreSQL database into `timestamptz` (the stored values are UTC) and `jsonb`,
found by inspection so that no column is forgotten. Nothing changes on SQLite.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_COLUMNS = """
SELECT table_name, column_name, data_type FROM information_schema.columns
WHERE table_schema = current_schema() AND data_type IN (:old_time, :old_json)
  AND table_name <> 'alembic_version'
ORDER BY table_name, ordinal_position
"""


def _convert(old_time: str, old_json: str, to_time: str, to_json: str, using_time: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    found = bind.execute(sa.text(_COLUMNS), {"old_time": old_time, "old_json": old_json}).all()
    by_table: dict[str, list[str]] = {}
    for table, column, kind in found:
        change = (
            f'ALTER COLUMN "{column}" TYPE {to_time} USING "{column}" {using_time}'
            if kind == old_time
            else f'ALTER COLUMN "{column}" TYPE {to_json} USING "{column}"::text::{to_json}'
        )
        by_table.setdefault(table, []).append(change)
    for table, changes in by_table.items():
        op.execute(f'ALTER TABLE "{table}" {", ".join(changes)}')


def upgrade() -> None:
    _convert("timestamp without time zone", "json", "timestamptz", "jsonb", "AT TIME ZONE 'UTC'")


def downgrade() -> None:
    _convert("timestamp with time zone", "jsonb", "timestamp", "json", "AT TIME ZONE 'UTC'")
