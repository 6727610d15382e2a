"""wait: pause the run for a duration (the timer survives restarts)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from frontdesk.domain.model import WaitKind
from frontdesk.domain.workflows.durations import format_duration
from frontdesk.steps._fields import Duration, Target
from frontdesk.steps.base import Catalog, Outcome, Runtime, Signal, StepConfig, StepType, Timeout, Wait


class Config(StepConfig):
    type: Literal["wait"] = "wait"
    duration: Duration = Field(description="1s to 30d, e.g. 30s, 10m, 2h")
    next: Target = None

    breaks_loops: ClassVar[bool] = True

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        return [] if 1 <= self.duration <= 30 * 86400 else [("duration", "must be between 1 second and 30 days")]


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    if isinstance(signal, Timeout):
        return Outcome("next", f"waited {format_duration(config.duration)}")
    return Outcome(wait=Wait(WaitKind.TIMER, config.duration))


STEP = StepType.of(Config, execute)
