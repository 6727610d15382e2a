"""Agents: create, change availability, capacity, skills, role."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from frontdesk.actions.assignments import queues
from frontdesk.actions.events import emit
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import Conflict, NotFound
from frontdesk.domain.model import Actor, Availability, Role
from frontdesk.domain.people import check_capacity, check_email, check_name, check_skills
from frontdesk.store.tables import agents, web_sessions


def get_agent(conn: Connection, agent_id: int) -> RowMapping:
    row = conn.execute(select(agents).where(agents.c.id == agent_id)).mappings().first()
    if row is None:
        raise NotFound("agent", agent_id)
    return row


def create_agent(
    conn: Connection,
    actor: Actor,
    *,
    name: str,
    email: str,
    role: Role = Role.AGENT,
    capacity: int = 10,
    skills: dict[str, str] | None = None,
    availability: Availability = Availability.OFFLINE,
) -> int:
    email = check_email(email)
    if conn.execute(select(agents.c.id).where(agents.c.email == email)).first():
        raise Conflict("email_taken", f"an agent with e-mail {email} already exists", "email")
    at = now()
    agent_id = int(
        conn.execute(
            insert(agents).values(
                name=check_name(name),
                email=email,
                role=role,
                availability=availability,
                capacity=check_capacity(capacity),
                skills=check_skills(skills or {}),
                availability_changed_at=at,
                created_at=at,
            )
        ).inserted_primary_key[0]
    )
    emit(conn, ev.AGENT_CREATED, {"agent_id": agent_id, "role": str(role), "actor": actor.as_payload()})
    return agent_id


def update_agent(conn: Connection, agent_id: int, actor: Actor, changes: dict[str, Any]) -> None:
    """`changes` may hold name, role, availability, capacity, skills; unchanged keys are ignored."""
    agent = get_agent(conn, agent_id)
    checks = {"name": check_name, "capacity": check_capacity, "skills": check_skills}
    values = {key: checks.get(key, _same)(value) for key, value in changes.items()}
    values = {key: value for key, value in values.items() if agent[key] != value}
    values = _keep_inactive_offline(conn, agent, values)
    if not values:
        return
    if "availability" in values:
        values["availability_changed_at"] = now()
    conn.execute(update(agents).where(agents.c.id == agent_id).values(**values))
    who = actor.as_payload()
    if "availability" in values:
        emit(
            conn,
            ev.AGENT_AVAILABILITY_CHANGED,
            {
                "agent_id": agent_id,
                "old": agent["availability"],
                "new": str(values["availability"]),
                "actor": who,
            },
        )
    others = sorted(set(values) - {"availability", "availability_changed_at"})
    if others:
        emit(conn, ev.AGENT_UPDATED, {"agent_id": agent_id, "changed": others, "actor": who})
    _rebalance(conn, agent, values)


def _keep_inactive_offline(conn: Connection, agent: RowMapping, values: dict[str, Any]) -> dict[str, Any]:
    """A deactivated agent is offline (so no strategy picks them and their unanswered
    conversations may go back to the queue) and their web sessions end; they cannot go online."""
    active = values.get("active", agent["active"])
    if active:
        return values
    if values.get("availability", Availability.OFFLINE) != Availability.OFFLINE:
        raise Conflict("agent_inactive", f"agent {agent['id']} is deactivated; reactivate them first", "availability")
    if values.get("active") is False:
        conn.execute(delete(web_sessions).where(web_sessions.c.agent_id == agent["id"]))
        if agent["availability"] != Availability.OFFLINE:
            values = {**values, "availability": Availability.OFFLINE}
    return values


def _rebalance(conn: Connection, before: RowMapping, values: dict[str, Any]) -> None:
    """Capacity appeared (online, more room): the agent's queues move now. It vanished: their
    unanswered conversations may go back to the queue (a team setting)."""
    at = now()
    availability = values.get("availability")
    if availability is not None and availability != Availability.ONLINE:
        queues().requeue_unanswered(conn, before["id"], at)
        return
    if availability == Availability.ONLINE or values.get("capacity", 0) > before["capacity"]:
        queues().drain_teams_of(conn, before["id"], at)


def _same(value: Any) -> Any:
    return value
