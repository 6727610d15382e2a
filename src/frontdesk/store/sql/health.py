"""The health check's statement: the cheapest one that proves a connection answers."""

from __future__ import annotations

from sqlalchemy import Connection, text


def ping(conn: Connection) -> None:
    conn.execute(text("SELECT 1")).scalar()
