"""add_comment: an internal note on the conversation, visible to agents only."""

from __future__ import annotations

from typing import Literal

from frontdesk.steps._fields import Target, Template
from frontdesk.steps.base import Outcome, Runtime, Signal, StepConfig, StepType


class Config(StepConfig):
    type: Literal["add_comment"] = "add_comment"
    text: Template
    next: Target = None

    def templates(self) -> list[tuple[str, str]]:
        return [("text", self.text)]


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    text = runtime.render(config.text)
    runtime.add_comment(text)
    return Outcome(output={"text": text})


STEP = StepType.of(Config, execute)
