"""API tokens: random secrets of which only a SHA-256 hash is stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Connection

from frontdesk.clock import now
from frontdesk.domain.errors import InvalidInput, NotFound
from frontdesk.domain.model import Role
from frontdesk.domain.people import check_name
from frontdesk.store.sql import agents, tokens

PREFIX = "fd_"
MAX_LIFETIME_DAYS = 3650


def check_expiry(expires_at: dt.datetime | None, expires_in_days: int | None, at: dt.datetime) -> dt.datetime | None:
    """When a new token stops working: an exact time, or a number of days from `at`, or never."""
    if expires_at is not None and expires_in_days is not None:
        raise InvalidInput("invalid_expiry", "give expires_at or expires_in_days, not both", "expires_at")
    if expires_in_days is not None:
        if not 1 <= expires_in_days <= MAX_LIFETIME_DAYS:
            raise InvalidInput(
                "invalid_expiry", f"expires_in_days must be between 1 and {MAX_LIFETIME_DAYS}", "expires_in_days"
            )
        return at + dt.timedelta(days=expires_in_days)
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise InvalidInput("invalid_expiry", "expires_at needs a time zone (e.g. 2030-01-31T12:00:00Z)", "expires_at")
    if expires_at <= at:
        raise InvalidInput("invalid_expiry", "expires_at must be in the future", "expires_at")
    return expires_at


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    conn: Connection, name: str, role: Role, agent_id: int | None = None, expires_at: dt.datetime | None = None
) -> str:
    """Return the new token in clear; it cannot be read back later. `expires_at` passed `check_expiry`."""
    if agent_id is not None:
        agent = agents.agent_by_id(conn, agent_id)
        if agent is None:
            raise NotFound("agent", agent_id, "agent_id")
        if not Role(agent.role).includes(role):
            raise InvalidInput(
                "role_too_high", f"agent {agent_id} is a {agent.role}; cannot hold a {role} token", "role"
            )
    token = PREFIX + secrets.token_urlsafe(32)
    tokens.insert_token(
        conn,
        name=check_name(name),
        token_hash=hash_token(token),
        role=role,
        agent_id=agent_id,
        created_at=now(),
        expires_at=expires_at,
    )
    return token


def revoke_token(conn: Connection, token_id: int) -> None:
    if not tokens.revoke_token(conn, token_id, now()):
        raise NotFound("token", token_id)
