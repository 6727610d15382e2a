"""What strategies choose among."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Candidate:
    agent_id: int
    open_count: int
    capacity: int
    last_assigned_at: dt.datetime | None

    @property
    def idle_since(self) -> dt.datetime:
        return self.last_assigned_at or NEVER


@dataclass(frozen=True)
class TeamState:
    team_id: int
    rr_last_agent_id: int | None
