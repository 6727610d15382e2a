"""Teams and their members."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from frontdesk.actions.agents import get_agent
from frontdesk.actions.events import emit
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import Conflict, NotFound
from frontdesk.domain.model import Actor
from frontdesk.domain.people import check_name
from frontdesk.store.tables import team_members, teams

DEFAULT_ASSIGNMENT = {"strategy": "round_robin"}


def check_team(conn: Connection, team_id: int) -> None:
    if conn.execute(select(teams.c.id).where(teams.c.id == team_id)).first() is None:
        raise NotFound("team", team_id)


def create_team(conn: Connection, actor: Actor, name: str, assignment: dict[str, Any] | None = None) -> int:
    name = check_name(name)
    if conn.execute(select(teams.c.id).where(teams.c.name == name)).first():
        raise Conflict("team_exists", f"a team named {name!r} already exists", "name")
    team_id = int(
        conn.execute(
            insert(teams).values(name=name, assignment=assignment or dict(DEFAULT_ASSIGNMENT), created_at=now())
        ).inserted_primary_key[0]
    )
    emit(conn, ev.TEAM_CREATED, {"team_id": team_id, "name": name, "actor": actor.as_payload()})
    return team_id


def add_member(conn: Connection, team_id: int, agent_id: int, actor: Actor) -> bool:
    """Add an agent to a team; False when they already were a member (nothing changes)."""
    check_team(conn, team_id)
    get_agent(conn, agent_id)
    if _membership(conn, team_id, agent_id):
        return False
    conn.execute(insert(team_members).values(team_id=team_id, agent_id=agent_id, created_at=now()))
    emit(conn, ev.TEAM_MEMBER_ADDED, {"team_id": team_id, "agent_id": agent_id, "actor": actor.as_payload()})
    return True


def remove_member(conn: Connection, team_id: int, agent_id: int, actor: Actor) -> None:
    check_team(conn, team_id)
    if not _membership(conn, team_id, agent_id):
        raise NotFound("team_member", f"{agent_id} of team {team_id}", "agent_id")
    conn.execute(delete(team_members).where(team_members.c.team_id == team_id, team_members.c.agent_id == agent_id))
    emit(conn, ev.TEAM_MEMBER_REMOVED, {"team_id": team_id, "agent_id": agent_id, "actor": actor.as_payload()})


def _membership(conn: Connection, team_id: int, agent_id: int) -> bool:
    query = select(team_members.c.agent_id).where(
        team_members.c.team_id == team_id, team_members.c.agent_id == agent_id
    )
    return conn.execute(query).first() is not None
