"""send_template: send one of the channel's pre-approved template messages (WhatsApp), with its
body parameters templated like send_message's text. The one message WhatsApp delivers outside its
24-hour window: a follow-up, a reminder, a first message the business starts."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from frontdesk.domain.message_templates import LANGUAGE, MAX_PARAMETERS, NAME, problem
from frontdesk.steps._fields import Target, Template
from frontdesk.steps.base import Catalog, Outcome, Runtime, Signal, StepConfig, StepType


class Config(StepConfig):
    type: Literal["send_template"] = "send_template"
    template: str = Field(pattern=f"^{NAME.pattern}$", description="its name, as the channel's templates list it")
    language: str = Field(pattern=f"^{LANGUAGE.pattern}$", description="its language code, e.g. en_US")
    parameters: list[Template] = Field(default_factory=list, max_length=MAX_PARAMETERS)
    next: Target = None

    def templates(self) -> list[tuple[str, str]]:
        return [(f"parameters[{i}]", p) for i, p in enumerate(self.parameters)]

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        """Checked against every channel's templates (the run's channel is known only at run time)."""
        if not catalog.check_names:
            return []
        known = sorted(catalog.message_templates, key=lambda t: (t.name, t.language))
        found = problem(known, self.template, self.language, len(self.parameters))
        if found is None:
            return []
        return [("parameters" if found.field == "parameters" else "template", found.message)]


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    parameters = [runtime.render(p) for p in config.parameters]
    runtime.send_template(config.template, config.language, parameters)
    return Outcome(output={"template": config.template, "language": config.language, "parameters": parameters})


STEP = StepType.of(Config, execute)
