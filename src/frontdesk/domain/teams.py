"""A team's assignment settings and skills requirements: what is acceptable, checked up front."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from frontdesk.domain.errors import InvalidInput
from frontdesk.domain.workflows.durations import parse_duration

Seconds = Annotated[float, BeforeValidator(parse_duration)]
_SKILL = re.compile(r"^\s*([a-z][a-z0-9_]{0,31})\s*=\s*([^,=]{1,64}?)\s*$")


class AssignmentSettings(BaseModel):
    """How a team hands out conversations (see docs/assignment.md)."""

    model_config = ConfigDict(extra="forbid")

    strategy: Literal["round_robin", "least_open", "longest_idle", "random"] = "round_robin"
    capacity: int | None = Field(
        default=None, ge=0, le=1000, description="max open conversations per member here (default: the agent's)"
    )
    relax_skills_after: Seconds | None = Field(
        default=None, ge=0, description="after this long in the queue, any member may take a conversation"
    )
    reassign_after: Seconds | None = Field(
        default=None, ge=1, description="reassign when the assignee has not answered within this long"
    )
    requeue_on_unavailable: bool = Field(
        default=False, description="an agent going away/offline returns their unanswered conversations to the queue"
    )
    away_once: bool = Field(default=True, description="send the away message at most once per conversation")
    auto_away_after: Seconds | None = Field(
        default=None, ge=1, description="set an online member away after this long without activity"
    )


class AssignTarget(BaseModel):
    """Where to assign: exactly one of a team (by its strategy), an agent (e-mail), the contact's
    owner, or the agent who last handled the contact."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    team: str | None = Field(default=None, min_length=1, max_length=120)
    agent: str | None = Field(default=None, min_length=3, max_length=254)
    owner: bool = False
    last_agent: bool = False

    def problem(self) -> str | None:
        chosen = [self.team is not None, self.agent is not None, self.owner, self.last_agent]
        return None if sum(chosen) == 1 else "give exactly one of team, agent, owner: true or last_agent: true"

    def describe(self) -> str:
        if self.team:
            return f"team {self.team}"
        if self.agent:
            return f"agent {self.agent}"
        return "the contact's owner" if self.owner else "the agent who last handled the contact"


def parse_skills(value: object, field: str = "skills") -> dict[str, str]:
    """Skills as a mapping or as text `language=fr, product=billing`."""
    if value is None or value == "":
        return {}
    if isinstance(value, dict):
        pairs = [f"{k}={v}" for k, v in value.items()]
    elif isinstance(value, str):
        pairs = value.split(",")
    else:
        raise InvalidInput("invalid_skills", f"{field} must be key=value pairs", field)
    skills: dict[str, str] = {}
    for pair in pairs:
        match = _SKILL.match(pair)
        if match is None:
            raise InvalidInput(
                "invalid_skills", f"{field}: {pair.strip()!r} is not key=value (e.g. language=fr)", field
            )
        skills[match.group(1)] = match.group(2)
    return skills


def has_skills(agent_skills: dict[str, str], required: dict[str, str]) -> bool:
    return all(str(agent_skills.get(key, "")).casefold() == str(value).casefold() for key, value in required.items())
