"""Presence: when agents were last active, and the teams' "away after idle" rule.

Activity is any authenticated request by the agent (API or web), recorded at most once a minute
per agent so it never costs a write per request. A team with `auto_away_after` sets its online
members away once they have been idle that long — then their queues and unanswered
conversations follow the usual rules (see `update_agent`)."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import Connection, func, select, update

from frontdesk.actions.agents import update_agent
from frontdesk.domain.model import Actor, AuthorKind, Availability
from frontdesk.domain.teams import AssignmentSettings
from frontdesk.store.tables import agents, team_members, teams

SYSTEM = Actor(AuthorKind.SYSTEM)
RECORD_EVERY_SECONDS = 60.0


class ActivityRecorder:
    """In-process throttle: which agents had their activity recorded recently."""

    def __init__(self) -> None:
        self._recorded: dict[int, float] = {}

    def due(self, agent_id: int) -> bool:
        last = self._recorded.get(agent_id, 0.0)
        if time.monotonic() - last < RECORD_EVERY_SECONDS:
            return False
        self._recorded[agent_id] = time.monotonic()
        return True


def record_activity(conn: Connection, agent_id: int, now: dt.datetime) -> None:
    conn.execute(update(agents).where(agents.c.id == agent_id).values(last_seen_at=now))


def auto_away_due(conn: Connection, now: dt.datetime) -> int:
    """Set away the online members idle longer than their team's `auto_away_after`; how many."""
    idle: dict[int, float] = {}
    for team_id, settings in conn.execute(select(teams.c.id, teams.c.assignment)).all():
        after = AssignmentSettings.model_validate(settings or {}).auto_away_after
        if after is None:
            continue
        for agent_id in conn.execute(
            select(team_members.c.agent_id).where(team_members.c.team_id == team_id)
        ).scalars():
            idle[agent_id] = min(after, idle.get(agent_id, after))
    moved = 0
    for agent_id, after in idle.items():
        seen = func.coalesce(agents.c.last_seen_at, agents.c.availability_changed_at)
        row = conn.execute(
            select(agents.c.id).where(
                agents.c.id == agent_id,
                agents.c.availability == Availability.ONLINE,
                seen < now - dt.timedelta(seconds=after),
            )
        ).first()
        if row is not None:
            update_agent(conn, agent_id, SYSTEM, {"availability": Availability.AWAY})
            moved += 1
    return moved
