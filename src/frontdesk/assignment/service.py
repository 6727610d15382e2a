"""Assign a conversation to a target — a team by its strategy, an agent, the contact's owner,
the agent who last handled the contact — trying fallbacks in order, or queueing it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection

from frontdesk.actions import assignments
from frontdesk.assignment.pool import load_team, online_members
from frontdesk.assignment.queue import assign_from_pool, enqueue
from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.model import Actor, Availability, ConversationStatus
from frontdesk.domain.records import Conversation
from frontdesk.domain.teams import AssignTarget, has_skills
from frontdesk.steps.base import Assignment
from frontdesk.store import rows
from frontdesk.store.sql import assignment as sql
from frontdesk.store.sql import conversations as conversations_sql


def assign_first_available(
    conn: Connection,
    conversation_id: int,
    targets: list[AssignTarget],
    skills: dict[str, str],
    actor: Actor,
    now: dt.datetime,
) -> Assignment:
    """Try each target in order; the first that has someone available wins."""
    tried: list[str] = []
    for target in targets:
        result = assign_target(conn, conversation_id, target, skills, actor, now)
        if result.agent_id is not None:
            if tried:
                return Assignment(result.agent_id, result.team_id, f"{result.reason} (after: {'; '.join(tried)})")
            return result
        tried.append(result.reason)
    return Assignment(None, None, "; ".join(tried) or "no target")


def assign_target(
    conn: Connection, conversation_id: int, target: AssignTarget, skills: dict[str, str], actor: Actor, now: dt.datetime
) -> Assignment:
    conversation = _open_conversation(conn, conversation_id)
    if target.team is not None:
        team_id = _team_id(conn, target.team)
        if team_id is None:
            return Assignment(None, None, f"team {target.team!r} does not exist")
        return assign_to_team(conn, conversation, team_id, skills, actor, now)
    agent_id = _agent_for(conn, conversation, target)
    if agent_id is None:
        return Assignment(None, None, f"{target.describe()}: none")
    return assign_to_agent(conn, conversation, agent_id, skills, actor, now, why=target.describe())


def assign_to_team(
    conn: Connection,
    conversation: Conversation,
    team_id: int,
    skills: dict[str, str],
    actor: Actor,
    now: dt.datetime,
) -> Assignment:
    team = load_team(conn, team_id)
    members = online_members(conn, team)
    agent_id = assign_from_pool(conn, conversation, team, members, skills, now, actor=actor, why="available now")
    if agent_id is None:
        wanted = f" with {', '.join(f'{k}={v}' for k, v in skills.items())}" if skills else ""
        return Assignment(None, team.id, f"no online agent of {team.name}{wanted} under capacity")
    return Assignment(agent_id, team.id, f"{team.settings.strategy} in {team.name}")


def assign_to_agent(
    conn: Connection,
    conversation: Conversation,
    agent_id: int,
    skills: dict[str, str],
    actor: Actor,
    now: dt.datetime,
    *,
    why: str,
) -> Assignment:
    agent = sql.agent(conn, agent_id)
    if agent is None:
        return Assignment(None, None, f"{why}: agent {agent_id} does not exist")
    if agent.availability != Availability.ONLINE:
        return Assignment(None, None, f"{why} ({agent.name}) is {agent.availability}")
    if not has_skills(agent.skills or {}, skills):
        return Assignment(None, None, f"{why} ({agent.name}) lacks the skills")
    if assignments.take_place(conn, agent_id, agent.capacity, now) is None:
        return Assignment(None, None, f"{why} ({agent.name}) is at capacity")
    assignments.record_assignment(conn, conversation, agent_id, None, actor, strategy="direct", reason=why, now=now)
    return Assignment(agent_id, None, why)


def queue_for(
    conn: Connection, conversation_id: int, team_name: str, priority: int, skills: dict[str, str], now: dt.datetime
) -> bool:
    team_id = _team_id(conn, team_name)
    if team_id is None:
        return False
    enqueue(conn, _open_conversation(conn, conversation_id), load_team(conn, team_id), priority, skills, now)
    return True


def _team_id(conn: Connection, name: str) -> int | None:
    return rows.remembered(conn, ("team.id", name), lambda: sql.team_id_named(conn, name))  # type: ignore[no-any-return]


def _open_conversation(conn: Connection, conversation_id: int) -> Conversation:
    conversation = conversations_sql.get(conn, conversation_id)
    assert conversation is not None, f"conversation {conversation_id} is gone"
    if conversation.status != ConversationStatus.OPEN:
        raise InvalidInput("conversation_closed", f"conversation {conversation_id} is closed", "conversation_id")
    return conversation


def _agent_for(conn: Connection, conversation: Conversation, target: AssignTarget) -> int | None:
    if target.agent is not None:
        return sql.agent_id_by_email(conn, target.agent.lower())
    if target.owner:
        return conversations_sql.contact_owner(conn, conversation.contact_id)
    return conversations_sql.previous_assignee(conn, conversation.contact_id, conversation.id)
