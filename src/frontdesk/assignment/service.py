"""Assign a conversation to an available agent: online, under capacity, of the right team.

This first version picks the team member with the fewest open conversations (ties: the lowest
id). Team strategies, skills, queues and incremental capacity counters come with the routing
and assignment work; callers already go through `assign_to_team`/`assign_to_agent`.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from frontdesk.actions.conversations import assign_conversation
from frontdesk.domain.model import Actor, Availability, ConversationStatus
from frontdesk.steps.base import Assignment
from frontdesk.store.tables import agents, conversations, team_members, teams


def _open_counts(conn: Connection, agent_ids: list[int]) -> dict[int, int]:
    query = (
        select(conversations.c.assignee_id, func.count())
        .where(conversations.c.assignee_id.in_(agent_ids), conversations.c.status == ConversationStatus.OPEN)
        .group_by(conversations.c.assignee_id)
    )
    return {agent_id: count for agent_id, count in conn.execute(query)}


def assign_to_team(conn: Connection, conversation_id: int, team_name: str, actor: Actor) -> Assignment:
    team_id = conn.execute(select(teams.c.id).where(teams.c.name == team_name)).scalar()
    if team_id is None:
        return Assignment(None, None, f"team {team_name!r} does not exist")
    members = conn.execute(
        select(agents.c.id, agents.c.capacity)
        .join(team_members, team_members.c.agent_id == agents.c.id)
        .where(team_members.c.team_id == team_id, agents.c.availability == Availability.ONLINE)
        .order_by(agents.c.id)
    ).all()
    counts = _open_counts(conn, [m.id for m in members])
    eligible = [(counts.get(m.id, 0), m.id) for m in members if counts.get(m.id, 0) < m.capacity]
    if not eligible:
        return Assignment(None, team_id, f"no online agent of {team_name} under capacity")
    load, agent_id = min(eligible)
    reason = f"least open conversations ({load}) among online agents of {team_name}"
    assign_conversation(conn, conversation_id, actor, agent_id, team_id, reason=reason)
    return Assignment(agent_id, team_id, reason)


def assign_to_agent(conn: Connection, conversation_id: int, agent_id: int | None, actor: Actor, why: str) -> Assignment:
    if agent_id is None:
        return Assignment(None, None, f"{why}: none")
    agent = conn.execute(select(agents.c.availability, agents.c.capacity).where(agents.c.id == agent_id)).first()
    if agent is None:
        return Assignment(None, None, f"{why}: agent {agent_id} does not exist")
    if agent.availability != Availability.ONLINE:
        return Assignment(None, None, f"{why} (agent {agent_id}) is {agent.availability}")
    if _open_counts(conn, [agent_id]).get(agent_id, 0) >= agent.capacity:
        return Assignment(None, None, f"{why} (agent {agent_id}) is at capacity")
    assign_conversation(conn, conversation_id, actor, agent_id, None, reason=why)
    return Assignment(agent_id, None, why)
