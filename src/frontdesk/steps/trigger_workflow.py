"""trigger_workflow: start another workflow (by name) for the same contact and conversation."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from frontdesk.steps._fields import Target
from frontdesk.steps.base import Catalog, Outcome, Runtime, Signal, StepConfig, StepType


class Config(StepConfig):
    type: Literal["trigger_workflow"] = "trigger_workflow"
    workflow: str = Field(min_length=1, max_length=120)
    next: Target = None

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        if catalog.check_names and self.workflow not in catalog.workflows:
            return [("workflow", f"workflow {self.workflow!r} does not exist")]
        return []


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    started = runtime.start_workflow(config.workflow)
    reason = "started" if started else "not started (missing or disabled)"
    return Outcome(reason=f"workflow {config.workflow!r} {reason}", output={"started": started})


STEP = StepType.of(Config, execute)
