"""assign: hand the conversation to a team (by its strategy), an agent, the contact's owner or
the agent who last handled the contact; try `fallback` targets in order; optionally wait in the
first team's queue until someone is free.

Branches: `assigned`, `nobody_available` (no queueing), `timed_out` (queued past `queue_timeout`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from frontdesk.domain.model import WaitKind
from frontdesk.domain.teams import AssignTarget, parse_skills
from frontdesk.domain.workflows.durations import format_duration
from frontdesk.steps._fields import Duration, Target
from frontdesk.steps.base import (
    Assigned,
    Catalog,
    Outcome,
    Runtime,
    Signal,
    StepConfig,
    StepType,
    Timeout,
    Wait,
)


class Config(StepConfig):
    type: Literal["assign"] = "assign"
    team: str | None = Field(default=None, max_length=120, description="team name: its strategy picks the agent")
    agent: str | None = Field(default=None, max_length=254, description="agent e-mail")
    owner: bool = Field(default=False, description="the contact's dedicated agent")
    last_agent: bool = Field(default=False, description="the agent who handled the contact's last conversation")
    fallback: list[AssignTarget] = Field(default_factory=list, max_length=5, description="tried in order")
    skills: dict[str, Annotated[str, Field(max_length=200)]] = Field(
        default_factory=dict, description="required agent skills; values may be templates"
    )
    queue: bool = Field(default=False, description="wait in the first team's queue when nobody is available")
    queue_timeout: Duration | None = Field(default=None, description="stop waiting after this long")
    priority: int = Field(default=0, ge=0, le=10, description="higher is served first in the queue")
    next: Target = None
    on_unavailable: Target = None
    on_timeout: Target = None

    def targets(self) -> dict[str, str | None]:
        return {"assigned": self.next, "nobody_available": self.on_unavailable, "timed_out": self.on_timeout}

    def primary(self) -> AssignTarget:
        return AssignTarget(team=self.team, agent=self.agent, owner=self.owner, last_agent=self.last_agent)

    def all_targets(self) -> list[AssignTarget]:
        return [self.primary(), *self.fallback]

    def queue_team(self) -> str | None:
        return next((t.team for t in self.all_targets() if t.team), None)

    def templates(self) -> list[tuple[str, str]]:
        return [(f"skills.{k}", v) for k, v in self.skills.items()]

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for path, target in [("team", self.primary())] + [(f"fallback[{i}]", t) for i, t in enumerate(self.fallback)]:
            if problem := target.problem():
                found.append((path, problem))
            elif catalog.check_names and target.team and target.team not in catalog.teams:
                found.append((path, f"team {target.team!r} does not exist"))
            elif catalog.check_names and target.agent and target.agent.lower() not in catalog.agents:
                found.append((path, f"agent {target.agent!r} does not exist"))
        if self.queue and self.queue_team() is None:
            found.append(("queue", "queueing needs a team among the targets"))
        if self.queue_timeout is not None and not 1 <= self.queue_timeout <= 30 * 86400:
            found.append(("queue_timeout", "must be between 1 second and 30 days"))
        try:
            parse_skills({k: v for k, v in self.skills.items() if "{" not in v})
        except ValueError as exc:
            found.append(("skills", str(exc)))
        return found


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    if isinstance(signal, Assigned):
        return Outcome("assigned", f"assigned from the queue to agent {signal.agent_id}", {"agent_id": signal.agent_id})
    if isinstance(signal, Timeout):
        runtime.dequeue()
        wait = format_duration(config.queue_timeout or 0)
        return Outcome("timed_out", f"nobody took it from the queue within {wait}")
    skills = parse_skills({k: runtime.render(v) for k, v in config.skills.items() if runtime.render(v).strip()})
    result = runtime.assign(config.all_targets(), skills)
    output = {"agent_id": result.agent_id, "team_id": result.team_id, "skills": skills}
    if result.agent_id is not None:
        return Outcome("assigned", result.reason, output)
    team = config.queue_team()
    if config.queue and team is not None and runtime.enqueue(team, config.priority, skills):
        return Outcome(
            wait=Wait(WaitKind.QUEUE, config.queue_timeout), output={**output, "queued_in": team, "why": result.reason}
        )
    return Outcome("nobody_available", result.reason, output)


STEP = StepType.of(Config, execute)
