"""Teams' and memberships' statements outside the hot path: admin changes, queues and live figures.

Assignment reads teams and writes the round robin's place on the driver cursor (ADR 0003).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, delete, insert, select, update

from frontdesk.domain.errors import NotFound
from frontdesk.store.sql.assignment import members_changed
from frontdesk.store.tables import agents, conversations, queue_entries, team_members, teams


def team_exists(conn: Connection, team_id: int) -> bool:
    return conn.execute(select(teams.c.id).where(teams.c.id == team_id)).first() is not None


def team_name_taken(conn: Connection, name: str, *, other_than: int | None = None) -> bool:
    """Whether a team (other than team `other_than`) is called `name`."""
    query = select(teams.c.id).where(teams.c.name == name)
    if other_than is not None:
        query = query.where(teams.c.id != other_than)
    return conn.execute(query).first() is not None


def insert_team(
    conn: Connection,
    *,
    name: str,
    assignment: dict[str, Any],
    business_hours: dict[str, Any] | None,
    away_message: str | None,
    at: dt.datetime,
) -> int:
    query = (
        insert(teams)
        .values(
            name=name, assignment=assignment, business_hours=business_hours, away_message=away_message, created_at=at
        )
        .returning(teams.c.id)
    )
    return int(conn.execute(query).scalar_one())


def update_team(conn: Connection, team_id: int, values: Mapping[str, Any]) -> None:
    """Write `values` (columns of `teams`) on the team's row."""
    conn.execute(update(teams).where(teams.c.id == team_id).values(**values))


def team_names(conn: Connection) -> frozenset[str]:
    return frozenset(conn.execute(select(teams.c.name)).scalars())


def team_choices(conn: Connection) -> list[dict[str, Any]]:
    """Every team's id and name, by name (the pages' pickers)."""
    return [dict(r) for r in conn.execute(select(teams.c.id, teams.c.name).order_by(teams.c.name)).mappings()]


# -- members -------------------------------------------------------------------------------
def _member(team_id: int, agent_id: int) -> ColumnElement[bool]:
    return and_(team_members.c.team_id == team_id, team_members.c.agent_id == agent_id)


def is_member(conn: Connection, team_id: int, agent_id: int) -> bool:
    return conn.execute(select(team_members.c.agent_id).where(_member(team_id, agent_id))).first() is not None


def insert_member(conn: Connection, team_id: int, agent_id: int, capacity: int | None, at: dt.datetime) -> None:
    conn.execute(insert(team_members).values(team_id=team_id, agent_id=agent_id, capacity=capacity, created_at=at))
    members_changed(conn)


def set_member_capacity(conn: Connection, team_id: int, agent_id: int, capacity: int) -> None:
    conn.execute(update(team_members).where(_member(team_id, agent_id)).values(capacity=capacity))
    members_changed(conn)


def delete_member(conn: Connection, team_id: int, agent_id: int) -> None:
    conn.execute(delete(team_members).where(_member(team_id, agent_id)))
    members_changed(conn)


# -- read models ---------------------------------------------------------------------------
def list_teams(conn: Connection) -> list[dict[str, Any]]:
    members: dict[int, list[int]] = {}
    for team_id, agent_id in conn.execute(select(team_members.c.team_id, team_members.c.agent_id)):
        members.setdefault(team_id, []).append(agent_id)
    rows = conn.execute(select(teams).order_by(teams.c.id)).mappings()
    return [{**dict(r), "member_ids": sorted(members.get(r["id"], []))} for r in rows]


def team_detail(conn: Connection, team_id: int) -> dict[str, Any]:
    row = conn.execute(select(teams).where(teams.c.id == team_id)).mappings().first()
    if row is None:
        raise NotFound("team", team_id)
    query = select(team_members.c.agent_id).where(team_members.c.team_id == team_id).order_by(team_members.c.agent_id)
    return {**dict(row), "member_ids": list(conn.execute(query).scalars())}


def team_queue(conn: Connection, team_id: int) -> list[dict[str, Any]]:
    team_detail(conn, team_id)  # 404 for an unknown team
    rows = conn.execute(
        select(
            queue_entries.c.conversation_id,
            queue_entries.c.priority,
            queue_entries.c.skills,
            queue_entries.c.enqueued_at,
            queue_entries.c.relax_at,
            conversations.c.contact_id,
        )
        .join(conversations, conversations.c.id == queue_entries.c.conversation_id)
        .where(queue_entries.c.team_id == team_id)
        .order_by(queue_entries.c.priority.desc(), queue_entries.c.enqueued_at, queue_entries.c.id)
    ).mappings()
    return [{"position": i + 1, **dict(r)} for i, r in enumerate(rows)]


def team_stats(conn: Connection, team_id: int, now: dt.datetime) -> dict[str, Any]:
    team = team_detail(conn, team_id)
    capacity_default = (team["assignment"] or {}).get("capacity")
    queued = conn.execute(select(queue_entries.c.enqueued_at).where(queue_entries.c.team_id == team_id)).scalars()
    waits = [(now - at).total_seconds() for at in queued]
    members = conn.execute(
        select(
            agents.c.id,
            agents.c.name,
            agents.c.availability,
            agents.c.open_count,
            agents.c.capacity,
            team_members.c.capacity.label("team_capacity"),
        )
        .join(team_members, team_members.c.agent_id == agents.c.id)
        .where(team_members.c.team_id == team_id)
        .order_by(agents.c.id)
    ).all()
    per_agent = [
        {
            "agent_id": m.id,
            "name": m.name,
            "availability": m.availability,
            "open": m.open_count,
            "capacity": next(c for c in (m.team_capacity, capacity_default, m.capacity) if c is not None),
        }
        for m in members
    ]
    return {
        "team_id": team_id,
        "queue_length": len(waits),
        "longest_wait_seconds": round(max(waits), 3) if waits else 0,
        "agents_online": sum(1 for m in members if m.availability == "online"),
        "agents": per_agent,
    }
