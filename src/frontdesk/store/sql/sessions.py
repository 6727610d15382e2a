"""Logins' statements: password hashes, web sessions, the instance secret, failed-login counters.

Not on the hot path: SQLAlchemy Core (ADR 0003). The failure counters take a row lock on
PostgreSQL so concurrent attempts on several processes wait for each other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from frontdesk.store.tables import agents, instance_settings, login_failures, web_sessions


def set_password_hash(conn: Connection, agent_id: int, password_hash: str) -> bool:
    """Whether the agent exists (and now has this hash)."""
    changed = conn.execute(update(agents).where(agents.c.id == agent_id).values(password_hash=password_hash))
    return bool(changed.rowcount)


def login_of(conn: Connection, email: str) -> tuple[int, str] | None:
    """(agent id, password hash) of the active agent with this e-mail, if they have a password."""
    row = conn.execute(
        select(agents.c.id, agents.c.password_hash).where(agents.c.email == email, agents.c.active)
    ).first()
    return None if row is None or row.password_hash is None else (int(row.id), row.password_hash)


def insert_session(conn: Connection, token_hash: str, agent_id: int, now: dt.datetime, expires_at: dt.datetime) -> None:
    conn.execute(
        insert(web_sessions).values(token_hash=token_hash, agent_id=agent_id, created_at=now, expires_at=expires_at)
    )


def session_agent(conn: Connection, token_hash: str, now: dt.datetime) -> tuple[int, str] | None:
    """(agent id, current role) of a live session of an active agent."""
    row = conn.execute(
        select(agents.c.id, agents.c.role)
        .join(web_sessions, web_sessions.c.agent_id == agents.c.id)
        .where(web_sessions.c.token_hash == token_hash, web_sessions.c.expires_at > now, agents.c.active)
    ).first()
    return None if row is None else (int(row.id), str(row.role))


def delete_session(conn: Connection, token_hash: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == token_hash))


def setting(conn: Connection, key: str) -> str | None:
    found = conn.execute(select(instance_settings.c.value).where(instance_settings.c.key == key)).scalar()
    return None if found is None else str(found)


def insert_setting(conn: Connection, key: str, value: str) -> None:
    conn.execute(insert(instance_settings).values(key=key, value=value))


# -- failed logins ---------------------------------------------------------------------------
def forget_failures_before(conn: Connection, before: dt.datetime) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.last_failure_at < before))


def locked_failures(conn: Connection, key: str, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """(failures, blocked until) of a counter, created at zero if absent and locked until commit
    (PostgreSQL: concurrent attempts on other processes wait for this one)."""
    dialect: Any = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(
        dialect.insert(login_failures)
        .values(key=key, failures=0, last_failure_at=now, blocked_until=None)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    query = select(login_failures.c.failures, login_failures.c.blocked_until).where(login_failures.c.key == key)
    row = conn.execute(query.with_for_update()).one()
    return int(row.failures), row.blocked_until


def set_failures(
    conn: Connection, key: str, failures: int, now: dt.datetime, blocked_until: dt.datetime | None
) -> None:
    conn.execute(
        update(login_failures)
        .where(login_failures.c.key == key)
        .values(failures=failures, last_failure_at=now, blocked_until=blocked_until)
    )


def forget_failures(conn: Connection, keys: list[str]) -> None:
    conn.execute(delete(login_failures).where(login_failures.c.key.in_(keys)))
