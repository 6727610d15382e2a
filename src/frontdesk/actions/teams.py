"""Teams and their members."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection

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
from frontdesk.store.sql import teams


def check_team(conn: Connection, team_id: int) -> None:
    if not teams.team_exists(conn, team_id):
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
    if teams.team_name_taken(conn, name):
        raise Conflict("team_exists", f"a team named {name!r} already exists", "name")
    team_id = teams.insert_team(
        conn,
        name=name,
        assignment=_validated(AssignmentSettings, assignment or {}, "assignment"),
        business_hours=None if business_hours is None else _validated(Schedule, business_hours, "business_hours"),
        away_message=away_message,
        at=now(),
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
    if teams.is_member(conn, team_id, agent_id):
        if capacity is not None:
            teams.set_member_capacity(conn, team_id, agent_id, capacity)
            queues().drain(conn, team_id, now())
        return False
    teams.insert_member(conn, team_id, agent_id, capacity, now())
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
        if teams.team_name_taken(conn, name, other_than=team_id):
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
    teams.update_team(conn, team_id, values)
    emit(conn, ev.TEAM_UPDATED, {"team_id": team_id, "changed": sorted(values), "actor": actor.as_payload()})
    queues().drain(conn, team_id, now())


def remove_member(conn: Connection, team_id: int, agent_id: int, actor: Actor) -> None:
    check_team(conn, team_id)
    if not teams.is_member(conn, team_id, agent_id):
        raise NotFound("team_member", f"{agent_id} of team {team_id}", "agent_id")
    teams.delete_member(conn, team_id, agent_id)
    emit(conn, ev.TEAM_MEMBER_REMOVED, {"team_id": team_id, "agent_id": agent_id, "actor": actor.as_payload()})
