"""The JSON Schema of a workflow definition, generated from the step types' config models."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Union

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.steps import STEP_TYPES
from frontdesk.workflows.definition import Trigger


@cache
def json_schema() -> dict[str, Any]:
    configs = tuple(step.config for step in STEP_TYPES.values())
    Step = Annotated[Union[configs], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007

    class WorkflowDefinition(BaseModel):
        model_config = ConfigDict(extra="forbid", title="Frontdesk workflow")

        name: str = Field(min_length=1, max_length=120)
        description: str | None = None
        trigger: Trigger
        start: str | None = Field(default=None, description="first step id (default: the first step)")
        steps: list[Step] = Field(min_length=1)

    return WorkflowDefinition.model_json_schema(by_alias=True)
