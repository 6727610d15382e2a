"""longest_idle: the agent whose last assignment is the oldest (never assigned comes first)."""

from __future__ import annotations

from frontdesk.assignment.strategies.base import Candidate, TeamState


def choose(candidates: list[Candidate], team: TeamState) -> Candidate:
    return min(candidates, key=lambda c: (c.idle_since, c.agent_id))
