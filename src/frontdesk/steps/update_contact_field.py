"""update_contact_field: set (or clear, with null) one declared contact field."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from frontdesk.steps._fields import Target, field_problem
from frontdesk.steps.base import Catalog, Outcome, Runtime, Signal, StepConfig, StepType


class Config(StepConfig):
    type: Literal["update_contact_field"] = "update_contact_field"
    field: str = Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")
    value: Any = Field(description="a literal, or a template string such as '{{ vars.plan }}'")
    next: Target = None

    def templates(self) -> list[tuple[str, str]]:
        return [("value", self.value)] if isinstance(self.value, str) else []

    def fields_written(self) -> list[str]:
        return [f"contact.fields.{self.field}"]

    def problems(self, catalog: Catalog) -> list[tuple[str, str]]:
        return field_problem("field", f"contact.fields.{self.field}", catalog.fields, catalog.check_names)


def execute(config: Config, runtime: Runtime, signal: Signal) -> Outcome:
    value = runtime.render(config.value) if isinstance(config.value, str) else config.value
    runtime.set_field(config.field, value)
    return Outcome(output={"field": config.field, "value": value})


STEP = StepType.of(Config, execute)
