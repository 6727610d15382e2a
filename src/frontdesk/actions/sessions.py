"""Agent logins: argon2 password hashes, and sessions as rows behind an HttpOnly cookie.

The web pages and the API's cookie auth both use these; the statements are store/sql/sessions.py."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Connection

from frontdesk.domain.errors import InvalidInput, NotFound
from frontdesk.store.sql import sessions as sql

COOKIE = "fd_session"
LIFETIME = dt.timedelta(days=14)
MIN_PASSWORD = 10
_HASHER = PasswordHasher()


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_password(conn: Connection, agent_id: int, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput("weak_password", f"a password needs at least {MIN_PASSWORD} characters", "password")
    if not sql.set_password_hash(conn, agent_id, _HASHER.hash(password)):
        raise NotFound("agent", agent_id)


def check_login(conn: Connection, email: str, password: str) -> int | None:
    """The agent id when the e-mail and password match, else None (the same for both mistakes)."""
    found = sql.login_of(conn, email.strip().lower())
    if found is None:
        _HASHER.hash(password)  # spend the same time as a real check: do not reveal who exists
        return None
    agent_id, password_hash = found
    try:
        _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return agent_id


def open_session(conn: Connection, agent_id: int, now: dt.datetime) -> str:
    token = secrets.token_urlsafe(32)
    sql.insert_session(conn, _digest(token), agent_id, now, now + LIFETIME)
    return token


def session_agent(conn: Connection, token: str, now: dt.datetime) -> tuple[int, str] | None:
    """(agent id, current role) of a live session of an active agent, or None."""
    return sql.session_agent(conn, _digest(token), now)


def close_session(conn: Connection, token: str) -> None:
    sql.delete_session(conn, _digest(token))


def instance_secret(conn: Connection) -> str:
    """A random secret made once per installation (CSRF tokens), shared by every process."""
    value = sql.setting(conn, "secret")
    if value is None:
        value = secrets.token_urlsafe(32)
        sql.insert_setting(conn, "secret", value)
    return value
