"""Teams and their members."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, delete, insert, select, update

from frontdesk.actions.agents import get_agent
from frontdesk.actions.assignments import queues
from frontdesk.actions.events import emit
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import Conflict, NotFound, invalid_from
from frontdesk.domain.model import Actor
from frontdesk.domain.people import check_capacity, check_name
from frontdesk.domain.schedule import Schedule
from frontdesk.domain.teams import AssignmentSettings
from frontdesk.store.tables import team_members, teams


def check_team(conn: Connection, team_id: int) -> None:
    if conn.execute(select(teams.c.id).where(teams.c.id == team_id)).first() is None:
        raise NotFound("team", team_id)


def create_team(
    conn: Connection,
    actor: Actor,
    name: str,
    assignment: dict[str, Any] | None = None,
    business_hours: dict[str, Any] | None = None,
    away_message: str | None = None,
) -> int:
    name = check_name(name)
    if conn.execute(select(teams.c.id).where(teams.c.name == name)).first():
        raise Conflict("team_exists", f"a team named {name!r} already exists", "name")
    team_id = int(
        conn.execute(
            insert(teams).values(
                name=name,
                assignment=_validated(AssignmentSettings, assignment or {}, "assignment"),
                business_hours=None
                if business_hours is None
                else _validated(Schedule, business_hours, "business_hours"),
                away_message=away_message,
                created_at=now(),
            )
        ).inserted_primary_key[0]
    )
    emit(conn, ev.TEAM_CREATED, {"team_id": team_id, "name": name, "actor": actor.as_payload()})
    return team_id


def add_member(conn: Connection, team_id: int, agent_id: int, actor: Actor, capacity: int | None = None) -> bool:
    """Add an agent to a team (optionally with a capacity for this team); False when they were
    already a member — then only a changed capacity is applied."""
    check_team(conn, team_id)
    get_agent(conn, agent_id)
    if capacity is not None:
        check_capacity(capacity)
    if _membership(conn, team_id, agent_id):
        if capacity is not None:
            conn.execute(
                update(team_members)
                .where(team_members.c.team_id == team_id, team_members.c.agent_id == agent_id)
                .values(capacity=capacity)
            )
            queues().drain(conn, team_id, now())
        return False
    conn.execute(insert(team_members).values(team_id=team_id, agent_id=agent_id, capacity=capacity, created_at=now()))
    emit(conn, ev.TEAM_MEMBER_ADDED, {"team_id": team_id, "agent_id": agent_id, "actor": actor.as_payload()})
    queues().drain(conn, team_id, now())
    return True


def _validated(model: type[BaseModel], data: Any, field: str) -> dict[str, Any]:
    try:
        return model.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise invalid_from(exc, field) from None


def update_team(conn: Connection, team_id: int, actor: Actor, changes: dict[str, Any]) -> None:
    """Change name, assignment settings, business hours or away message; queues re-drain."""
    check_team(conn, team_id)
    values: dict[str, Any] = {}
    if "name" in changes:
        name = check_name(changes["name"])
        if conn.execute(select(teams.c.id).where(teams.c.name == name, teams.c.id != team_id)).first():
            raise Conflict("team_exists", f"a team named {name!r} already exists", "name")
        values["name"] = name
    if "assignment" in changes:
        values["assignment"] = _validated(AssignmentSettings, changes["assignment"] or {}, "assignment")
    if "business_hours" in changes:
        hours = changes["business_hours"]
        values["business_hours"] = None if hours is None else _validated(Schedule, hours, "business_hours")
    if "away_message" in changes:
        values["away_message"] = changes["away_message"]
    if not values:
        return
    conn.execute(update(teams).where(teams.c.id == team_id).values(**values))
    emit(conn, "team.updated", {"team_id": team_id, "changed": sorted(values), "actor": actor.as_payload()})
    queues().drain(conn, team_id, now())


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
