"""Who can take a conversation now: online members of a team, under capacity, with the skills."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import Connection

from frontdesk.assignment.strategies import Candidate, TeamState
from frontdesk.domain.errors import NotFound
from frontdesk.domain.model import Availability
from frontdesk.domain.teams import AssignmentSettings, has_skills
from frontdesk.store import rows


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
    row = rows.execute(
        conn, "SELECT id, name, assignment, rr_last_agent_id FROM teams WHERE id = ?", (team_id,)
    ).fetchone()
    if row is None:
        raise NotFound("team", team_id, "team_id")
    return Team(row[0], row[1], assignment_settings(row[2]), row[3])


@lru_cache(maxsize=1024)
def assignment_settings(stored: str | None) -> AssignmentSettings:
    """A team's settings from their stored JSON, validated once per distinct text (not per
    assignment). Callers only read them."""
    return AssignmentSettings.model_validate(rows.loads(stored) if stored else {})


@lru_cache(maxsize=4096)
def _skills(stored: str | None) -> dict[str, str]:
    return rows.loads(stored) if stored else {}  # type: ignore[no-any-return]


def online_members(conn: Connection, team: Team) -> list[Member]:
    found = []
    for agent_id, open_count, agent_capacity, last_assigned_at, skills, team_capacity in rows.execute(
        conn,
        "SELECT a.id, a.open_count, a.capacity, a.last_assigned_at, a.skills, m.capacity"
        " FROM agents a JOIN team_members m ON m.agent_id = a.id"
        " WHERE m.team_id = ? AND a.availability = ? ORDER BY a.id",
        (team.id, Availability.ONLINE),
    ):
        capacity = team_capacity if team_capacity is not None else team.settings.capacity
        found.append(
            Member(
                agent_id,
                open_count,
                capacity if capacity is not None else agent_capacity,
                rows.decode_time(last_assigned_at),
                _skills(skills),  # read only (has_skills)
            )
        )
    return found


def eligible(members: list[Member], skills: dict[str, str], exclude: frozenset[int] = frozenset()) -> list[Member]:
    return [
        m for m in members if m.open_count < m.capacity and m.agent_id not in exclude and has_skills(m.skills, skills)
    ]
