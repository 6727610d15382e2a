"""Who can take a conversation now: online members of a team, under capacity, with the skills."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection

from frontdesk.assignment.strategies import Candidate, TeamState
from frontdesk.domain.errors import NotFound
from frontdesk.domain.teams import AssignmentSettings, has_skills
from frontdesk.store import rows
from frontdesk.store.sql import assignment as sql


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
    """The team, read once per engine job (`rows.memo`): its settings do not change inside one, and
    its rotation moves in this object as assignments record it (`queue.assign_from_pool`)."""
    team: Team = rows.remembered(conn, ("team", team_id), lambda: _load_team(conn, team_id))
    return team


def _load_team(conn: Connection, team_id: int) -> Team:
    rule = sql.team_rule(conn, team_id)
    if rule is None:
        raise NotFound("team", team_id, "team_id")
    return Team(rule.id, rule.name, rule.settings, rule.rr_last_agent_id)


def online_members(conn: Connection, team: Team) -> list[Member]:
    found = []
    for m in sql.online_members(conn, team.id):
        capacity = m.team_capacity if m.team_capacity is not None else team.settings.capacity
        found.append(
            Member(
                m.agent_id,
                m.open_count,
                capacity if capacity is not None else m.capacity,
                m.last_assigned_at,
                m.skills,  # read only (has_skills)
            )
        )
    return found


def eligible(members: list[Member], skills: dict[str, str], exclude: frozenset[int] = frozenset()) -> list[Member]:
    return [
        m for m in members if m.open_count < m.capacity and m.agent_id not in exclude and has_skills(m.skills, skills)
    ]
