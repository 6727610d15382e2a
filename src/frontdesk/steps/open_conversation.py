"""open_conversation: open a conversation for the contact (source workflow) if none is open."""

from __future__ import annotations

from typing import Literal

from frontdesk.steps._fields import Target
from frontdesk.steps.base import Outcome, Runtime, Signal, StepConfig, StepType


class Config(StepConfig):
    type: Literal["open_conversation"] = "open_conversation"
    next: Target = None


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    opened = runtime.open_conversation()
    return Outcome(reason="opened" if opened else "one was already open", output={"opened": opened})


STEP = StepType.of(Config, execute)
