"""jump_to: go to another step; after `max_jumps` visits, take `on_exhausted` (the loop guard)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from frontdesk.steps._fields import Target
from frontdesk.steps.base import Outcome, Runtime, Signal, StepConfig, StepType


class Config(StepConfig):
    type: Literal["jump_to"] = "jump_to"
    target: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    max_jumps: int = Field(default=3, ge=1, le=100)
    on_exhausted: Target = None

    breaks_loops: ClassVar[bool] = True

    def targets(self) -> dict[str, str | None]:
        return {"jump": self.target, "exhausted": self.on_exhausted}


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    visits = runtime.visits()
    if visits > config.max_jumps:
        return Outcome("exhausted", f"jumped {config.max_jumps} times already")
    return Outcome("jump", f"jump {visits} of {config.max_jumps}")


STEP = StepType.of(Config, execute)
