"""least_open: the agent with the fewest open conversations; ties go to the longest idle."""

from __future__ import annotations

from frontdesk.assignment.strategies.base import Candidate, TeamState


def choose(candidates: list[Candidate], team: TeamState) -> Candidate:
    return min(candidates, key=lambda c: (c.open_count, c.idle_since, c.agent_id))
