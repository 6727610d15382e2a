"""Each strategy's choices on deterministic sequences (pure: no database)."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from frontdesk.assignment.strategies import STRATEGIES, Candidate, TeamState

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _run(strategy: str, agents: list[int], rounds: int, available: set[int] | None = None) -> list[int]:
    """Assign `rounds` conversations one after another, updating what the strategies see."""
    open_count = dict.fromkeys(agents, 0)
    last: dict[int, dt.datetime | None] = dict.fromkeys(agents, None)
    cursor = None
    chosen = []
    for n in range(rounds):
        pool = [Candidate(a, open_count[a], 100, last[a]) for a in agents if available is None or a in available]
        pick = STRATEGIES[strategy](pool, TeamState(1, cursor)).agent_id
        chosen.append(pick)
        open_count[pick] += 1
        last[pick] = T0 + dt.timedelta(minutes=n)
        cursor = pick
    return chosen


def test_round_robin_cycles_through_the_team_in_order() -> None:
    assert _run("round_robin", [3, 1, 2], 7) == [1, 2, 3, 1, 2, 3, 1]


def test_round_robin_skips_unavailable_agents_without_owing_them_a_turn() -> None:
    assert _run("round_robin", [1, 2, 3, 4], 6, available={1, 3, 4}) == [1, 3, 4, 1, 3, 4]


def test_round_robin_continues_from_the_stored_place() -> None:
    pool = [Candidate(a, 0, 10, None) for a in (1, 2, 3)]
    assert STRATEGIES["round_robin"](pool, TeamState(1, 2)).agent_id == 3
    assert STRATEGIES["round_robin"](pool, TeamState(1, 3)).agent_id == 1  # wraps around
    assert STRATEGIES["round_robin"](pool, TeamState(1, 99)).agent_id == 1  # a departed agent's place


def test_least_open_picks_the_least_loaded_then_the_longest_idle() -> None:
    pool = [
        Candidate(1, 3, 10, T0),
        Candidate(2, 1, 10, T0 + dt.timedelta(minutes=5)),
        Candidate(3, 1, 10, T0 + dt.timedelta(minutes=1)),
    ]
    assert STRATEGIES["least_open"](pool, TeamState(1, None)).agent_id == 3


def test_least_open_evens_out_a_team() -> None:
    counts = Counter(_run("least_open", [1, 2, 3, 4], 40))
    assert set(counts.values()) == {10}


def test_longest_idle_prefers_never_assigned_then_the_oldest_assignment() -> None:
    pool = [Candidate(1, 0, 10, T0 + dt.timedelta(hours=1)), Candidate(2, 5, 10, T0), Candidate(3, 9, 10, None)]
    assert STRATEGIES["longest_idle"](pool, TeamState(1, None)).agent_id == 3
    assert STRATEGIES["longest_idle"](pool[:2], TeamState(1, None)).agent_id == 2


def test_random_only_picks_among_the_candidates_and_reaches_each() -> None:
    picks = Counter(_run("random", [1, 2, 3, 4, 5], 500, available={2, 4}))
    assert set(picks) == {2, 4}
    assert min(picks.values()) > 150  # uniform: each about 250 of 500
