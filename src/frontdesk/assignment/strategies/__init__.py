"""Assignment strategies: pure functions choosing one agent among eligible candidates.

Each strategy is one module with `choose(candidates, team) -> Candidate`; candidates are already
filtered (online, member, under capacity, skills) and never empty.
"""

from __future__ import annotations

from collections.abc import Callable

from frontdesk.assignment.strategies import least_open, longest_idle, random_choice, round_robin
from frontdesk.assignment.strategies.base import Candidate, TeamState

Strategy = Callable[[list[Candidate], TeamState], Candidate]

STRATEGIES: dict[str, Strategy] = {
    "round_robin": round_robin.choose,
    "least_open": least_open.choose,
    "longest_idle": longest_idle.choose,
    "random": random_choice.choose,
}

__all__ = ["STRATEGIES", "Candidate", "Strategy", "TeamState"]
