"""PostgreSQL's own types: `timestamptz` for every timestamp, `jsonb` for every JSON column, and
64-bit integers

The earlier revisions declared `DateTime()`, `JSON()` and `Integer()`, which SQLite stores as
text, text and 64-bit integers, and PostgreSQL would store as `timestamp` (no zone), `json` and
32-bit `integer`. This revision turns every such column of a PostgreSQL database into
`timestamptz` (the stored values are UTC), `jsonb` and `bigint` (a number the API accepts fits
on both databases), found by inspection so that no column is forgotten. Nothing changes on SQLite.

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
WHERE table_schema = current_schema() AND data_type IN (:old_time, :old_json, :old_int)
  AND table_name <> 'alembic_version'
ORDER BY table_name, ordinal_position
"""


def _convert(old: tuple[str, str, str], new: tuple[str, str, str]) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    names = dict(zip(("old_time", "old_json", "old_int"), old, strict=True))
    found = bind.execute(sa.text(_COLUMNS), names).all()
    by_table: dict[str, list[str]] = {}
    for table, column, kind in found:
        time, json, integer = new
        if kind == names["old_time"]:
            change = f'ALTER COLUMN "{column}" TYPE {time} USING "{column}" AT TIME ZONE \'UTC\''
        elif kind == names["old_json"]:
            change = f'ALTER COLUMN "{column}" TYPE {json} USING "{column}"::text::{json}'
        else:
            change = f'ALTER COLUMN "{column}" TYPE {integer}'
        by_table.setdefault(table, []).append(change)
    for table, changes in by_table.items():
        op.execute(f'ALTER TABLE "{table}" {", ".join(changes)}')


def upgrade() -> None:
    _convert(("timestamp without time zone", "json", "integer"), ("timestamptz", "jsonb", "bigint"))


def downgrade() -> None:
    # Integers stay 64-bit: ids were bigint before this revision too, and nothing tells them apart.
    _convert(("timestamp with time zone", "jsonb", "-"), ("timestamp", "json", "-"))
