"""Step types: one module each, listed in the registry in the order the docs list them.

The registry is built here from that explicit list (no registration by importing a module), so
adding a step type is its module, one line below, its test and its doc section.
"""

from frontdesk.domain.plugins import Registry
from frontdesk.steps import (
    add_comment,
    ask_question,
    assign,
    branch,
    business_hours,
    close_conversation,
    http_request,
    jump_to,
    open_conversation,
    send_message,
    send_template,
    trigger_workflow,
    update_contact_field,
    update_tags,
    wait,
)
from frontdesk.steps.base import Outcome, Runtime, StepConfig, StepType

BUILTIN: tuple[StepType, ...] = (
    add_comment.STEP,
    ask_question.STEP,
    assign.STEP,
    branch.STEP,
    business_hours.STEP,
    close_conversation.STEP,
    http_request.STEP,
    jump_to.STEP,
    open_conversation.STEP,
    send_message.STEP,
    send_template.STEP,
    trigger_workflow.STEP,
    update_contact_field.STEP,
    update_tags.STEP,
    wait.STEP,
)
STEP_TYPES: Registry[StepType] = Registry("step type", ((step.name, step) for step in BUILTIN))

__all__ = ["STEP_TYPES", "Outcome", "Runtime", "StepConfig", "StepType"]
