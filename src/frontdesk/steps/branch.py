"""branch: the first branch whose conditions hold is taken; `else` when none does."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.domain.workflows.conditions import ConditionGroup, evaluate
from frontdesk.steps._fields import Target
from frontdesk.steps.base import Catalog, Outcome, Runtime, Signal, StepConfig, StepType


class Branch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(default=None, max_length=60)
    when: ConditionGroup
    next: Target = None


class Config(StepConfig):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    type: Literal["branch"] = "branch"
    branches: list[Branch] = Field(min_length=1, max_length=20)
    otherwise: Target = Field(default=None, alias="else")

    def labels(self) -> list[str]:
        return [b.label or f"branch {i + 1}" for i, b in enumerate(self.branches)]

    def targets(self) -> dict[str, str | None]:
        found = {label: b.next for label, b in zip(self.labels(), self.branches, strict=True)}
        return {**found, "else": self.otherwise}

    def fields_read(self) -> list[tuple[str, str]]:
        return [
            (f"branches[{i}].when.{c.field}", c.field) for i, b in enumerate(self.branches) for c in b.when.conditions()
        ]

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        labels = self.labels()
        return [("branches", f"label {label!r} is used twice") for label in set(labels) if labels.count(label) > 1]


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    context = runtime.context()
    for label, branch in zip(config.labels(), config.branches, strict=True):
        matched, why = evaluate(branch.when, context)
        if matched:
            return Outcome(label, why)
    return Outcome("else", "no branch matched")


STEP = StepType.of(Config, execute)
