"""API tokens: random secrets of which only a SHA-256 hash is stored."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Connection, insert, select, update

from frontdesk.clock import now
from frontdesk.domain.errors import InvalidInput, NotFound
from frontdesk.domain.model import Role
from frontdesk.domain.people import check_name
from frontdesk.store.tables import agents, api_tokens

PREFIX = "fd_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(conn: Connection, name: str, role: Role, agent_id: int | None = None) -> str:
    """Return the new token in clear; it cannot be read back later."""
    if agent_id is not None:
        agent_role = conn.execute(select(agents.c.role).where(agents.c.id == agent_id)).scalar()
        if agent_role is None:
            raise NotFound("agent", agent_id, "agent_id")
        if not Role(agent_role).includes(role):
            raise InvalidInput(
                "role_too_high", f"agent {agent_id} is a {agent_role}; cannot hold a {role} token", "role"
            )
    token = PREFIX + secrets.token_urlsafe(32)
    conn.execute(
        insert(api_tokens).values(
            name=check_name(name),
            token_hash=hash_token(token),
            role=role,
            agent_id=agent_id,
            created_at=now(),
        )
    )
    return token


def revoke_token(conn: Connection, token_id: int) -> None:
    result = conn.execute(
        update(api_tokens)
        .where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now())
    )
    if result.rowcount == 0:
        raise NotFound("token", token_id)
