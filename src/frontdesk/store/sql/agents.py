"""Agents' statements outside the hot path: admin changes, and the lists the API and pages show.

Assignment reads and counts agents on the driver cursor (ADR 0003); these are the cold ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from frontdesk.domain.errors import NotFound
from frontdesk.domain.records import Agent
from frontdesk.store.sql.assignment import members_changed
from frontdesk.store.tables import agents, team_members, web_sessions

# What an agent looks like from outside: never the password hash; presence stays internal.
AGENT_COLUMNS = [c for c in agents.c if c.name not in ("password_hash", "last_seen_at")]


def agent_by_id(conn: Connection, agent_id: int) -> Agent | None:
    row = conn.execute(select(agents).where(agents.c.id == agent_id)).mappings().first()
    return None if row is None else Agent.from_row(dict(row))


def agent_id_by_email(conn: Connection, email: str) -> int | None:
    found = conn.execute(select(agents.c.id).where(agents.c.email == email)).scalar()
    return None if found is None else int(found)


def insert_agent(
    conn: Connection,
    *,
    name: str,
    email: str,
    role: str,
    availability: str,
    capacity: int,
    skills: dict[str, str],
    at: dt.datetime,
) -> int:
    query = insert(agents).values(
        name=name,
        email=email,
        role=role,
        availability=availability,
        capacity=capacity,
        skills=skills,
        availability_changed_at=at,
        created_at=at,
    )
    return int(conn.execute(query.returning(agents.c.id)).scalar_one())


def update_agent(conn: Connection, agent_id: int, values: Mapping[str, Any]) -> None:
    """Write `values` (columns of `agents`) on the agent's row."""
    conn.execute(update(agents).where(agents.c.id == agent_id).values(**values))
    members_changed(conn)


def end_sessions(conn: Connection, agent_id: int) -> None:
    """Log the agent out of every browser (their web sessions end)."""
    conn.execute(delete(web_sessions).where(web_sessions.c.agent_id == agent_id))


def agent_emails(conn: Connection) -> frozenset[str]:
    return frozenset(conn.execute(select(agents.c.email)).scalars())


def agent_names(conn: Connection) -> dict[int, str]:
    return {int(agent_id): name for agent_id, name in conn.execute(select(agents.c.id, agents.c.name))}


def agent_choices(conn: Connection) -> list[dict[str, Any]]:
    """Every agent's id, name and availability, by name (the pages' pickers)."""
    query = select(agents.c.id, agents.c.name, agents.c.availability).order_by(agents.c.name)
    return [dict(r) for r in conn.execute(query).mappings()]


def list_agents(conn: Connection) -> list[dict[str, Any]]:
    memberships: dict[int, list[int]] = {}
    for team_id, agent_id in conn.execute(select(team_members.c.team_id, team_members.c.agent_id)):
        memberships.setdefault(agent_id, []).append(team_id)
    rows = conn.execute(select(*AGENT_COLUMNS).order_by(agents.c.id)).mappings()
    return [{**dict(r), "team_ids": sorted(memberships.get(r["id"], []))} for r in rows]


def agent_detail(conn: Connection, agent_id: int) -> dict[str, Any]:
    row = conn.execute(select(*AGENT_COLUMNS).where(agents.c.id == agent_id)).mappings().first()
    if row is None:
        raise NotFound("agent", agent_id)
    query = select(team_members.c.team_id).where(team_members.c.agent_id == agent_id).order_by(team_members.c.team_id)
    return {**dict(row), "team_ids": list(conn.execute(query).scalars())}
