"""Presence: when agents were last active, and the teams' "away after idle" rule.

Activity is any authenticated request by the agent (API or web), recorded at most once a minute
per agent so it never costs a write per request (`actions.assignments.record_activity`). A team
with `auto_away_after` sets its online members away once they have been idle that long — then
their queues and unanswered conversations follow the usual rules (see `update_agent`)."""

from __future__ import annotations

import datetime as dt
import time

from sqlalchemy import Connection

from frontdesk.actions.agents import update_agent
from frontdesk.domain.model import SYSTEM, Availability
from frontdesk.store.sql import assignment as sql

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


def auto_away_due(conn: Connection, now: dt.datetime) -> int:
    """Set away the online members idle longer than their team's `auto_away_after`; how many."""
    idle: dict[int, float] = {}
    for team in sql.team_rules(conn):
        after = team.settings.auto_away_after
        if after is None:
            continue
        for agent_id in sql.member_ids(conn, team.id):
            idle[agent_id] = min(after, idle.get(agent_id, after))
    moved = 0
    for agent_id, after in idle.items():
        if sql.idle_online(conn, agent_id, now - dt.timedelta(seconds=after)):
            update_agent(conn, agent_id, SYSTEM, {"availability": Availability.AWAY})
            moved += 1
    return moved
