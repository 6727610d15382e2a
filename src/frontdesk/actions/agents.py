"""Agents: create, change availability, capacity, skills, role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from frontdesk.actions.assignments import queues
from frontdesk.actions.events import emit
from frontdesk.clock import now
from frontdesk.domain import events as ev
from frontdesk.domain.errors import Conflict, NotFound
from frontdesk.domain.model import Actor, Availability, Role
from frontdesk.domain.people import check_capacity, check_email, check_name, check_skills
from frontdesk.domain.records import Agent
from frontdesk.store.sql import agents


def get_agent(conn: Connection, agent_id: int) -> Agent:
    agent = agents.agent_by_id(conn, agent_id)
    if agent is None:
        raise NotFound("agent", agent_id)
    return agent


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
    if agents.agent_id_by_email(conn, email) is not None:
        raise Conflict("email_taken", f"an agent with e-mail {email} already exists", "email")
    agent_id = agents.insert_agent(
        conn,
        name=check_name(name),
        email=email,
        role=role,
        availability=availability,
        capacity=check_capacity(capacity),
        skills=check_skills(skills or {}),
        at=now(),
    )
    payload: ev.AgentCreatedPayload = {
        "agent_id": agent_id,
        "role": str(role),
        "availability": str(availability),
        "actor": actor.as_payload(),
    }
    emit(conn, ev.AGENT_CREATED, payload)
    return agent_id


def update_agent(conn: Connection, agent_id: int, actor: Actor, changes: dict[str, Any]) -> None:
    """`changes` may hold name, role, availability, capacity, skills; unchanged keys are ignored."""
    agent = get_agent(conn, agent_id)
    checks: dict[str, Callable[[Any], Any]] = {"name": check_name, "capacity": check_capacity, "skills": check_skills}
    values = {key: checks.get(key, _same)(value) for key, value in changes.items()}
    values = {key: value for key, value in values.items() if getattr(agent, key) != value}
    values = _keep_inactive_offline(conn, agent, values)
    if not values:
        return
    if "availability" in values:
        values["availability_changed_at"] = now()
    agents.update_agent(conn, agent_id, values)
    who = actor.as_payload()
    if "availability" in values:
        emit(
            conn,
            ev.AGENT_AVAILABILITY_CHANGED,
            {
                "agent_id": agent_id,
                "old": agent.availability,
                "new": str(values["availability"]),
                "actor": who,
            },
        )
    others = sorted(set(values) - {"availability", "availability_changed_at"})
    if others:
        emit(conn, ev.AGENT_UPDATED, {"agent_id": agent_id, "changed": others, "actor": who})
    _rebalance(conn, agent, values)


def _keep_inactive_offline(conn: Connection, agent: Agent, values: dict[str, Any]) -> dict[str, Any]:
    """A deactivated agent is offline (so no strategy picks them and their unanswered
    conversations may go back to the queue) and their web sessions end; they cannot go online."""
    active = values.get("active", agent.active)
    if active:
        return values
    if values.get("availability", Availability.OFFLINE) != Availability.OFFLINE:
        raise Conflict("agent_inactive", f"agent {agent.id} is deactivated; reactivate them first", "availability")
    if values.get("active") is False:
        agents.end_sessions(conn, agent.id)
        if agent.availability != Availability.OFFLINE:
            values = {**values, "availability": Availability.OFFLINE}
    return values


def _rebalance(conn: Connection, before: Agent, values: dict[str, Any]) -> None:
    """Capacity appeared (online, more room): the agent's queues move now. It vanished: their
    unanswered conversations may go back to the queue (a team setting)."""
    at = now()
    availability = values.get("availability")
    if availability is not None and availability != Availability.ONLINE:
        queues().requeue_unanswered(conn, before.id, at)
        return
    if availability == Availability.ONLINE or values.get("capacity", 0) > before.capacity:
        queues().drain_teams_of(conn, before.id, at)


def _same(value: Any) -> Any:
    return value
