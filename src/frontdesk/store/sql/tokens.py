"""API tokens: what a token may do right now, and their rows (only a hash of each secret).

A token acts at the lower of its own role and its agent's *current* role, so demoting an agent
demotes their tokens; a token of a deactivated agent, a revoked one and an expired one grant
nothing. The expiry is returned so that a cached grant can be refused once it passes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from sqlalchemy import Connection, insert, select, update

from frontdesk.domain.model import Role
from frontdesk.store.tables import agents, api_tokens


class TokenGrant(NamedTuple):
    token_id: int
    role: Role  # already capped by the agent's role
    agent_id: int | None
    expires_at: dt.datetime | None

    def expired(self, at: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= at


def token_grant(conn: Connection, token_hash: str) -> TokenGrant | None:
    """The grant of a live token (perhaps expired: the caller says so), or None when the token
    is unknown, revoked, or belongs to an agent who is deactivated."""
    row = conn.execute(
        select(api_tokens.c.id, api_tokens.c.role, api_tokens.c.agent_id, api_tokens.c.expires_at, agents.c.role)
        .outerjoin(agents, agents.c.id == api_tokens.c.agent_id)
        .where(
            api_tokens.c.token_hash == token_hash,
            api_tokens.c.revoked_at.is_(None),
            (api_tokens.c.agent_id.is_(None)) | agents.c.active,
        )
    ).first()
    if row is None:
        return None
    token_id, token_role, agent_id, expires_at, agent_role = row
    role = Role(token_role) if agent_role is None else Role(token_role).at_most(Role(agent_role))
    return TokenGrant(int(token_id), role, agent_id, expires_at)


def insert_token(
    conn: Connection,
    *,
    name: str,
    token_hash: str,
    role: Role,
    agent_id: int | None,
    created_at: dt.datetime,
    expires_at: dt.datetime | None,
) -> None:
    conn.execute(
        insert(api_tokens).values(
            name=name,
            token_hash=token_hash,
            role=role,
            agent_id=agent_id,
            created_at=created_at,
            expires_at=expires_at,
        )
    )


def revoke_token(conn: Connection, token_id: int, at: dt.datetime) -> bool:
    """False when there is no such live token (unknown or already revoked)."""
    result = conn.execute(
        update(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None)).values(revoked_at=at)
    )
    return bool(result.rowcount)


def live_token_ids(conn: Connection, agent_id: int, name: str) -> list[int]:
    """The ids of `agent_id`'s unrevoked tokens called `name`."""
    query = select(api_tokens.c.id).where(
        api_tokens.c.agent_id == agent_id, api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None)
    )
    return [int(token_id) for token_id in conn.execute(query).scalars().all()]


def list_tokens(conn: Connection) -> list[dict[str, Any]]:
    """Every token as the API lists it: never its hash."""
    query = select(api_tokens).order_by(api_tokens.c.id)
    return [{k: v for k, v in r.items() if k != "token_hash"} for r in conn.execute(query).mappings()]
