"""random: any eligible agent, uniformly."""

from __future__ import annotations

import secrets

from frontdesk.assignment.strategies.base import Candidate, TeamState


def choose(candidates: list[Candidate], team: TeamState) -> Candidate:
    return candidates[secrets.randbelow(len(candidates))]
