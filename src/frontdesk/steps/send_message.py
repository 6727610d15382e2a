"""send_message: say something to the contact (templated), optionally with quick replies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from frontdesk.steps._fields import Target, Template
from frontdesk.steps.base import Outcome, Runtime, Signal, StepConfig, StepType


class Config(StepConfig):
    type: Literal["send_message"] = "send_message"
    text: Template
    quick_replies: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list, max_length=10)
    next: Target = None

    def templates(self) -> list[tuple[str, str]]:
        return [("text", self.text)] + [(f"quick_replies[{i}]", q) for i, q in enumerate(self.quick_replies)]


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    text = runtime.render(config.text)
    replies = [runtime.render(q) for q in config.quick_replies]
    runtime.send_message(text, replies)
    return Outcome(output={"text": text, "quick_replies": replies})


STEP = StepType.of(Config, execute)
