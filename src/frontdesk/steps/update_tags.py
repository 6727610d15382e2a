"""update_tags: add and remove contact tags."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from frontdesk.steps._fields import Target
from frontdesk.steps.base import Catalog, Outcome, Runtime, Signal, StepConfig, StepType

Tag = Annotated[str, Field(min_length=1, max_length=64)]


class Config(StepConfig):
    type: Literal["update_tags"] = "update_tags"
    add: list[Tag] = Field(default_factory=list, max_length=20)
    remove: list[Tag] = Field(default_factory=list, max_length=20)
    next: Target = None

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        return [] if self.add or self.remove else [("add", "give tags to add or to remove")]


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    runtime.update_tags(config.add, config.remove)
    return Outcome(output={"added": config.add, "removed": config.remove})


STEP = StepType.of(Config, execute)
