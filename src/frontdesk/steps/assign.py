"""assign: hand the conversation to a team (by its strategy), a named agent or the contact's owner.

Branches: `assigned`, or `nobody_available` when no eligible agent is online under capacity.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from frontdesk.steps._fields import Target
from frontdesk.steps.base import Catalog, Outcome, Runtime, Signal, StepConfig, register


class Config(StepConfig):
    type: Literal["assign"] = "assign"
    team: str | None = Field(default=None, max_length=120, description="team name")
    agent: str | None = Field(default=None, max_length=254, description="agent e-mail")
    owner: bool = Field(default=False, description="the contact's dedicated agent")
    next: Target = None
    on_unavailable: Target = None

    def targets(self) -> dict[str, str | None]:
        return {"assigned": self.next, "nobody_available": self.on_unavailable}

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        chosen = [name for name, value in (("team", self.team), ("agent", self.agent), ("owner", self.owner)) if value]
        if len(chosen) != 1:
            return [("team", "give exactly one of team, agent or owner: true")]
        if catalog.check_names and self.team and self.team not in catalog.teams:
            return [("team", f"team {self.team!r} does not exist")]
        if catalog.check_names and self.agent and self.agent.lower() not in catalog.agents:
            return [("agent", f"agent {self.agent!r} does not exist")]
        return []


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    result = runtime.assign(config.team, config.agent, config.owner)
    output = {"agent_id": result.agent_id, "team_id": result.team_id}
    if result.agent_id is None:
        return Outcome("nobody_available", result.reason, output)
    return Outcome("assigned", result.reason, output)


register(Config, execute)
