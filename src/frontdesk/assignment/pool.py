"""Who can take a conversation now: online members of a team, under capacity, with the skills."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select

from frontdesk.assignment.strategies import Candidate, TeamState
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import Availability
from frontdesk.domain.teams import AssignmentSettings, has_skills
from frontdesk.store.tables import agents, team_members, teams


@dataclass
class Team:
    """A team as a drain sees it; `rr_last_agent_id` moves as the drain assigns."""

    id: int
    name: str
    settings: AssignmentSettings
    rr_last_agent_id: int | None

    @property
    def state(self) -> TeamState:
        return TeamState(self.id, self.rr_last_agent_id)


@dataclass
class Member:
    """A team member as the pool sees them; `open_count` is updated as a drain assigns."""

    agent_id: int
    open_count: int
    capacity: int
    last_assigned_at: dt.datetime | None
    skills: dict[str, str]

    def candidate(self) -> Candidate:
        return Candidate(self.agent_id, self.open_count, self.capacity, self.last_assigned_at)


def load_team(conn: Connection, team_id: int) -> Team:
    row = conn.execute(select(teams).where(teams.c.id == team_id)).mappings().first()
    if row is None:
        raise NotFound("team", team_id, "team_id")
    settings = AssignmentSettings.model_validate(row["assignment"] or {})
    return Team(row["id"], row["name"], settings, row["rr_last_agent_id"])


def online_members(conn: Connection, team: Team) -> list[Member]:
    rows = conn.execute(
        select(
            agents.c.id,
            agents.c.open_count,
            agents.c.capacity,
            agents.c.last_assigned_at,
            agents.c.skills,
            team_members.c.capacity.label("team_capacity"),
        )
        .join(team_members, team_members.c.agent_id == agents.c.id)
        .where(team_members.c.team_id == team.id, agents.c.availability == Availability.ONLINE)
        .order_by(agents.c.id)
    ).all()
    found = []
    for row in rows:
        capacity = row.team_capacity if row.team_capacity is not None else team.settings.capacity
        found.append(
            Member(
                row.id,
                row.open_count,
                capacity if capacity is not None else row.capacity,
                row.last_assigned_at,
                row.skills or {},
            )
        )
    return found


def eligible(members: list[Member], skills: dict[str, str], exclude: frozenset[int] = frozenset()) -> list[Member]:
    return [
        m for m in members if m.open_count < m.capacity and m.agent_id not in exclude and has_skills(m.skills, skills)
    ]
