"""round_robin: the next agent after the last one this team assigned, in a fixed order.

The team's place in the rotation is stored with the team, so a restart continues it; agents who
are unavailable are skipped, not owed a turn.
"""

from __future__ import annotations

from frontdesk.assignment.strategies.base import Candidate, TeamState


def choose(candidates: list[Candidate], team: TeamState) -> Candidate:
    ordered = sorted(candidates, key=lambda c: c.agent_id)
    last = team.rr_last_agent_id
    if last is None:
        return ordered[0]
    return next((c for c in ordered if c.agent_id > last), ordered[0])
