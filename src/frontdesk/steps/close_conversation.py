"""close_conversation: close the run's conversation with an optional note and category."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from frontdesk.steps._fields import Target
from frontdesk.steps.base import Outcome, Runtime, Signal, StepConfig, StepType


class Config(StepConfig):
    type: Literal["close_conversation"] = "close_conversation"
    note: str | None = Field(default=None, max_length=2000)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    next: Target = None


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    closed = runtime.close_conversation(config.note, config.category)
    return Outcome(reason="closed" if closed else "it was not open", output={"closed": closed})


STEP = StepType.of(Config, execute)
