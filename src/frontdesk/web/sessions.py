"""Agent logins: argon2 password hashes, and sessions as rows behind an HttpOnly cookie."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection, delete, insert, select, update

from frontdesk.domain.errors import InvalidInput, NotFound
from frontdesk.store.tables import agents, instance_settings, web_sessions

COOKIE = "fd_session"
LIFETIME = dt.timedelta(days=14)
MIN_PASSWORD = 10
_HASHER = PasswordHasher()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_password(conn: Connection, agent_id: int, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("weak_password", f"a password needs at least {MIN_PASSWORD} characters", "password")
    result = conn.execute(update(agents).where(agents.c.id == agent_id).values(password_hash=_HASHER.hash(password)))
    if result.rowcount == 0:
        raise NotFound("agent", agent_id)


def check_login(conn: Connection, email: str, password: str) -> int | None:
    """The agent id when the e-mail and password match, else None (the same for both mistakes)."""
    row = conn.execute(
        select(agents.c.id, agents.c.password_hash).where(agents.c.email == email.strip().lower(), agents.c.active)
    ).first()
    if row is None or row.password_hash is None:
        _HASHER.hash(password)  # spend the same time as a real check: do not reveal who exists
        return None
    try:
        _HASHER.verify(row.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return int(row.id)


def open_session(conn: Connection, agent_id: int, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    conn.execute(
        insert(web_sessions).values(
            token_hash=_digest(token), agent_id=agent_id, created_at=now, expires_at=now + LIFETIME
        )
    )
    return token


def session_agent(conn: Connection, token: str, now: dt.datetime) -> tuple[int, str] | None:
    """(agent id, current role) of a live session of an active agent, or None."""
    row = conn.execute(
        select(agents.c.id, agents.c.role)
        .join(web_sessions, web_sessions.c.agent_id == agents.c.id)
        .where(web_sessions.c.token_hash == _digest(token), web_sessions.c.expires_at > now, agents.c.active)
    ).first()
    return None if row is None else (int(row.id), str(row.role))


def close_session(conn: Connection, token: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.token_hash == _digest(token)))


def instance_secret(conn: Connection) -> str:
    """A random secret made once per installation (CSRF tokens), shared by every process."""
    value = conn.execute(select(instance_settings.c.value).where(instance_settings.c.key == "secret")).scalar()
    if value is None:
        value = secrets.token_urlsafe(32)
        conn.execute(insert(instance_settings).values(key="secret", value=value))
    return str(value)
