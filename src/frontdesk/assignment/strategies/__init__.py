"""Assignment strategies: pure functions choosing one agent among eligible candidates.

Each strategy is one module with `choose(candidates, team) -> Candidate` (the `Strategy`
contract); candidates are already filtered (online, member, under capacity, skills) and never
empty. The registry below lists them by the name a team's settings store.
"""

from __future__ import annotations

from collections.abc import Callable

from frontdesk.assignment.strategies import least_open, longest_idle, random_choice, round_robin
from frontdesk.assignment.strategies.base import Candidate, TeamState
from frontdesk.domain.plugins import Registry

Strategy = Callable[[list[Candidate], TeamState], Candidate]

STRATEGIES: Registry[Strategy] = Registry(
    "assignment strategy",
    [
        ("round_robin", round_robin.choose),
        ("least_open", least_open.choose),
        ("longest_idle", longest_idle.choose),
        ("random", random_choice.choose),
    ],
)

__all__ = ["STRATEGIES", "Candidate", "Strategy", "TeamState"]
